// Package iampattern matches IAM's wildcard patterns: the * and ? of the
// Action, Resource and StringLike/ArnLike values of a policy.
package iampattern

// Match reports whether pattern (* for any run of characters, ? for any
// one) matches s, in time linear in their lengths: the stars are tried
// greedily and only the last one seen backtracks, as shells match globs.
// Every caller in the project (the bootstrap generator and the tests'
// evaluator) matches with this one function.
func Match(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		// A star first: s may hold a star of its own (a pattern matched
		// against a pattern), which is no reason to take this one literally.
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Overlap reports whether some string matches both patterns: whether a
// policy's resource pattern can name any ARN of a format (whose variables
// are stars), or two grants can reach a common resource. Time is the
// product of their lengths.
func Overlap(a, b string) bool {
	seen := make([]int8, (len(a)+1)*(len(b)+1)) // 0 unknown, 1 yes, 2 no
	var at func(i, j int) bool
	at = func(i, j int) bool {
		k := i*(len(b)+1) + j
		if seen[k] != 0 {
			return seen[k] == 1
		}
		var ok bool
		switch {
		case i == len(a) && j == len(b):
			ok = true
		case i < len(a) && a[i] == '*':
			ok = at(i+1, j) || (j < len(b) && at(i, j+1))
		case j < len(b) && b[j] == '*':
			ok = at(i, j+1) || (i < len(a) && at(i+1, j))
		case i < len(a) && j < len(b) && (a[i] == b[j] || a[i] == '?' || b[j] == '?'):
			ok = at(i+1, j+1)
		}
		seen[k] = 2
		if ok {
			seen[k] = 1
		}
		return ok
	}
	return at(0, 0)
}
