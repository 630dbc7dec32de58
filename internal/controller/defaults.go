package controller

import "cmp"

// defaultTo sets *v to def when it is zero or negative: an option left
// unset, or set to a value that means nothing.
func defaultTo[T cmp.Ordered](v *T, def T) {
	var zero T
	if *v <= zero {
		*v = def
	}
}
