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
