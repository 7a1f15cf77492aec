// Package suggest finds the "did you mean" for a misspelt name: the
// candidate nearest by edit distance, when near enough to be a likely typo.
package suggest

import "strings"

// Closest returns the candidate nearest to word, case not counting (MNT is
// a typo of mnt), and false when none is within max(2, len(word)/3) edits.
// A word longer than 64 bytes gets no suggestion: names are short, and the
// distance, quadratic in the lengths, would cost seconds on a pasted blob.
// Of candidates at the same distance the first wins.
func Closest(word string, candidates []string) (string, bool) {
	if len(word) > 64 {
		return "", false
	}
	best, bestD := "", 1<<30
	w := strings.ToLower(word)
	for _, c := range candidates {
		if d := Distance(w, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(word)/3) {
		return "", false
	}
	return best, true
}

// Distance is the optimal string alignment distance between a and b, in
// bytes: insertions, deletions, substitutions and transpositions of two
// adjacent bytes ("sdpc" for "spdc") each count as one edit.
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
