// Package redact removes secrets from text before it reaches a log, a job
// summary, an output or a PR comment, including the forms they take when
// something encodes them: base64, URL encoding, JSON string escaping.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Mask replaces every secret.
const Mask = "***"

// minLength is the shortest encoded form (base64, URL, JSON) registered:
// a short fragment of an encoding would blank out unrelated text. A secret
// itself is registered whatever its length: a short secret is still a
// secret, and the runner is told to mask it too.
const minLength = 6

// Redactor holds the secrets of one run.
type Redactor struct {
	mu       sync.RWMutex
	secrets  map[string]bool
	replacer *strings.Replacer
}

// New returns an empty redactor.
func New() *Redactor { return &Redactor{secrets: map[string]bool{}} }

// Add registers a secret and the forms it may take in output: each of its
// lines (output is redacted line by line), base64 at any of the three byte
// alignments (inside a longer encoded string too, standard and URL
// alphabets), URL query and path encoding, and JSON string escaping (with
// and without HTML escaping). It returns the forms added, for masking in
// Actions.
func (r *Redactor) Add(secret string) []string {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil
	}
	r.mu.Lock()
	added := []string(nil)
	if !r.secrets[secret] {
		r.secrets[secret] = true
		added = append(added, secret)
	}
	r.replacer = nil
	r.mu.Unlock()
	if len(secret) < minLength {
		return added
	}
	forms := []string{}
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimSpace(line); len(line) >= minLength && line != secret {
			forms = append(forms, line)
		}
	}
	forms = append(forms, base64Forms(secret)...)
	forms = append(forms, url.QueryEscape(secret), url.PathEscape(secret))
	forms = append(forms, jsonForms(secret)...)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range forms {
		if len(f) >= minLength && !r.secrets[f] {
			r.secrets[f] = true
			added = append(added, f)
		}
	}
	r.replacer = nil
	return added
}

// base64Forms returns substrings that appear in any base64 encoding of a
// text containing secret, whatever the secret's offset in that text.
func base64Forms(secret string) []string {
	var out []string
	for offset := 0; offset < 3; offset++ {
		padded := strings.Repeat("\x00", offset) + secret
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			s := strings.TrimRight(enc.EncodeToString([]byte(padded)), "=")
			// Drop the characters that also encode the neighbours.
			start := (offset*8 + 5) / 6
			end := len(s)
			if (len(padded)*8)%6 != 0 {
				end--
			}
			if end-start >= minLength {
				out = append(out, s[start:end])
			}
		}
	}
	return out
}

// jsonForms are the secret as it appears inside a JSON string, escaped by
// encoders that escape HTML characters (Go's default) and by those that
// do not.
func jsonForms(secret string) []string {
	var out []string
	for _, escapeHTML := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		if err := enc.Encode(secret); err != nil {
			continue
		}
		quoted := strings.TrimSpace(b.String())
		out = append(out, quoted[1:len(quoted)-1])
	}
	return out
}

// Redact replaces every registered secret in s.
func (r *Redactor) Redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.secrets) == 0 {
		return s
	}
	if r.replacer == nil {
		keys := make([]string, 0, len(r.secrets))
		for k := range r.secrets {
			keys = append(keys, k)
		}
		// Longest first, so a secret containing another is masked whole.
		sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
		pairs := make([]string, 0, 2*len(keys))
		for _, k := range keys {
			pairs = append(pairs, k, Mask)
		}
		r.replacer = strings.NewReplacer(pairs...)
	}
	return r.replacer.Replace(s)
}

// All is list with f applied to each string (nil stays nil): how a report
// redacts its lists of text.
func All(list []string, f func(string) string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = f(s)
	}
	return out
}
