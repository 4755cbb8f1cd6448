package bootstrap

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// principalEnv is IAM's policy variable for the environment tag of the
// role making the call: the policies that every environment's deploy (or
// drift) role shares name it where each role's own policy would name its
// environment. The roles' tags are set by this template alone (no role may
// tag them, see check) and no session can carry tags of its own (the trust
// policies do not allow sts:TagSession), so the variable is always the
// role's environment; a role without the tag matches nothing.
const principalEnv = "${aws:PrincipalTag/environment}"

// shared spreads the grants of every environment's role of one kind over
// one policy that all of them share, in which the environment is
// principalEnv, and a policy per role for what differs between
// environments (the stack one environment alone has, like the API Gateway
// account). Sharing changes no role's permissions: a grant is shared only
// when every environment's is the same with its environment's name in
// place of principalEnv. With one environment nothing is shared.
func shared(o Options, kind string, roles []role, grants map[string][]*grant, tags tagContext, description string) []policy {
	envs := o.Environments
	var common []*grant
	own := map[string][]*grant{}
	if len(envs) > 1 {
		for _, g := range grants[envs[0]] {
			general := generalize(g, envs[0])
			same := true
			for _, env := range envs[1:] {
				i := slices.IndexFunc(grants[env], func(h *grant) bool { return h.sid == g.sid })
				same = same && i >= 0 && grantKey(generalize(grants[env][i], env)) == grantKey(general)
			}
			if same {
				common = append(common, general)
			}
		}
	}
	for _, env := range envs {
		for _, g := range grants[env] {
			if !slices.ContainsFunc(common, func(c *grant) bool { return c.sid == g.sid }) {
				own[env] = append(own[env], g)
			}
		}
	}

	var out []policy
	if len(common) > 0 {
		logicals := make([]string, len(roles))
		for i, r := range roles {
			logicals[i] = r.logical
		}
		t := tags
		t.envs = []string{principalEnv}
		out = append(out, policy{logical: kind + "Policy", description: description + ", each role in its environment", roles: logicals, grants: common, tags: t})
	}
	for i, env := range envs {
		if len(own[env]) == 0 {
			continue
		}
		t := tags
		t.envs = []string{env}
		out = append(out, policy{logical: roles[i].logical + "Policy", description: description + ", only in " + env, roles: []string{roles[i].logical}, grants: own[env], tags: t})
	}
	return out
}

// generalize is g with env's name, wherever it stands as a word of a name
// or ARN, replaced by principalEnv.
func generalize(g *grant, env string) *grant {
	c := *g
	c.resources = replaceAll(g.resources, env, principalEnv)
	c.conds = make([]condition, len(g.conds))
	for i, cond := range g.conds {
		cond.values = replaceAll(cond.values, env, principalEnv)
		c.conds[i] = cond
	}
	return &c
}

// anyEnvironment is the preview role's grants with every environment's
// name a wildcard: what it reads of one environment it reads of all.
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
		out[i] = &c
	}
	return out
}

func replaceAll(values []string, word, with string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = replaceWord(v, word, with)
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

// grantKey is what a grant allows, in a comparable form.
func grantKey(g *grant) string {
	a, r := slices.Clone(g.actions), slices.Clone(g.resources)
	sort.Strings(a)
	sort.Strings(r)
	return fmt.Sprint(g.sid, a, r, g.tags, g.conds)
}

// collapse folds the names that follow marker (a name prefix ending in a
// wildcard: tap-dev-pr-* for review stacks, tap-* for what previews read)
// into one pattern per kind of resource: the ARN up to the marker and the
// end the names share (-eu-west-1 of roles, the account and region of
// buckets), keeping what follows the name (a bucket's keys, a qualifier)
// apart. A pattern that another pattern matches is left out. refused says
// which patterns are not to be made (they would reach the template's own
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
			subsumed = subsumed || (i != j && p != r && matches(p, r))
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
