package lsdb

// Links of a router and members of a network are multisets: two identical
// parallel links are two links, and one of them going away is a change.

// smallDiff is the size under which quadratic matching beats a map.
const smallDiff = 32

// MultisetMinus returns the elements of a not matched one for one by an
// equal element of b, in a's order.
func MultisetMinus[T comparable](a, b []T) []T {
	if len(a) == 0 {
		return nil
	}
	if len(b) == 0 {
		return a
	}
	var out []T
	if len(a) <= smallDiff && len(b) <= smallDiff {
		var usedArr [smallDiff]bool
		used := usedArr[:len(b)]
	next:
		for _, x := range a {
			for j, y := range b {
				if !used[j] && x == y {
					used[j] = true
					continue next
				}
			}
			out = append(out, x)
		}
		return out
	}
	count := make(map[T]int, len(b))
	for _, y := range b {
		count[y]++
	}
	for _, x := range a {
		if count[x] > 0 {
			count[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}
