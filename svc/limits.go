package svc

// Limits of a load; svc's package documentation says why.
const (
	MaxFileSize       = 16 << 20 // bytes
	MaxReferenceDepth = 32
	MaxValueSize      = 1 << 20 // bytes, after expansion
	ExpansionFactor   = 64
	MaxProblems       = 1000
)

// expansionBudget is the total of bytes the references of a file of size
// n may expand to.
func expansionBudget(n int) int {
	return max(ExpansionFactor*n, MaxValueSize)
}
