package bootstrap

import (
	"strings"

	"github.com/org/tap-deploy/internal/iampattern"
)

// anyEnvironment is a reader's grants with every environment's name a
// wildcard: what a preview reads of one environment it reads of all.
func anyEnvironment(grants []*grant, envs []string) []*grant {
	out := make([]*grant, len(grants))
	for i, g := range grants {
		c := *g
		c.resources = nil
		for _, r := range g.resources {
			for _, env := range envs {
				r = replaceWord(r, env, "*")
			}
			c.resources = dedupe(c.resources, []string{r})
		}
		c.conds = make([]condition, len(g.conds))
		for j, cond := range g.conds {
			values := make([]string, len(cond.values))
			for k, v := range cond.values {
				for _, env := range envs {
					v = replaceWord(v, env, "*")
				}
				values[k] = v
			}
			cond.values = values
			c.conds[j] = cond
		}
		out[i] = &c
	}
	return out
}

// replaceWord replaces word in s where it stands between separators of
// names and ARNs (or at an end): dev in tap-dev-items and stacks/tap/dev.*,
// not in devices; in an ARN, only in its resource (an environment named
// like a service is still not one).
func replaceWord(s, word, with string) string {
	if parts := strings.SplitN(s, ":", 6); len(parts) == 6 && parts[0] == "arn" {
		parts[5] = replaceWord(parts[5], word, with)
		return strings.Join(parts, ":")
	}
	sep := func(b byte) bool { return strings.IndexByte("-_./:*", b) >= 0 }
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], word) && (i == 0 || sep(s[i-1])) && (i+len(word) == len(s) || sep(s[i+len(word)])) {
			b.WriteString(with)
			i += len(word)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// collapse folds the names that follow marker (a name prefix ending in a
// wildcard: tap-dev-pr-* for review stacks, tap-* for what previews read)
// into one pattern per kind of resource: the ARN up to the marker and the
// end the names share (-eu-west-1 of roles, the account and region of
// buckets), keeping what follows the name (a bucket's keys, a qualifier)
// apart. A pattern that another pattern matches is left out. refused says
// which patterns are not to be made (they would reach the templates' own
// roles); their names stay as they are.
func collapse(resources []string, marker string, refused func(string) bool) []string {
	type split struct{ prefix, name, rest string }
	groups := map[[2]string][]string{}
	var order [][2]string
	var out []string
	for _, r := range resources {
		i := strings.Index(r, marker)
		if i < 0 {
			out = append(out, r)
			continue
		}
		at := i + len(marker)
		end := strings.IndexAny(r[at:], "/:")
		if end < 0 {
			end = len(r) - at
		}
		s := split{r[:at], r[at : at+end], r[at+end:]}
		k := [2]string{s.prefix, s.rest}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s.name)
	}
	for _, k := range order {
		names := groups[k]
		pattern := k[0] + commonEnd(names) + k[1]
		if len(names) == 1 || refused(pattern) {
			for _, n := range names {
				out = dedupe(out, []string{k[0] + n + k[1]})
			}
			continue
		}
		out = dedupe(out, []string{pattern})
	}
	kept := out[:0:0]
	for i, r := range out {
		subsumed := false
		for j, p := range out {
			subsumed = subsumed || (i != j && p != r && iampattern.Match(p, r))
		}
		if !subsumed {
			kept = append(kept, r)
		}
	}
	return kept
}

// commonEnd is the end all names share, from a separator on: -eu-west-1
// of tap-dev-pr-*-api-eu-west-1 and tap-dev-pr-*-worker-eu-west-1.
func commonEnd(names []string) string {
	end := names[0]
	for _, n := range names[1:] {
		k := 0
		for k < len(end) && k < len(n) && end[len(end)-1-k] == n[len(n)-1-k] {
			k++
		}
		end = end[len(end)-k:]
	}
	for end != "" && strings.IndexByte("-_.", end[0]) < 0 {
		end = end[1:]
	}
	return end
}
