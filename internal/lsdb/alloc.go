package lsdb

// Entries and router nodes are many, small, and live as long as the LSAs
// they stand for. They come from blocks rather than one allocation each:
// a dump of 50,000 LSAs then costs a few hundred allocations, and the
// garbage collector has a few hundred objects to track instead of 75,000.
// What the database drops goes to a free list and is handed out again, so
// churn does not pin blocks forever.

const poolBlock = 256

// pool hands out zeroed T from blocks and takes back those no longer
// referenced.
type pool[T any] struct {
	block  []T
	free   []*T
	blocks int // blocks allocated so far
}

func (p *pool[T]) get() *T {
	if n := len(p.free); n > 0 {
		x := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return x
	}
	if len(p.block) == 0 {
		p.block = make([]T, poolBlock)
		p.blocks++
	}
	x := &p.block[0]
	p.block = p.block[1:]
	return x
}

// put zeroes x and keeps it for a later get. x must not be referenced any
// more, and must not be put twice.
func (p *pool[T]) put(x *T) {
	var zero T
	*x = zero
	p.free = append(p.free, x)
}

// putAll puts every x of xs and returns xs emptied, for reuse.
func (p *pool[T]) putAll(xs []*T) []*T {
	for i, x := range xs {
		p.put(x)
		xs[i] = nil
	}
	return xs[:0]
}

// listChunk is the number of entries per chunk of a list.
const listChunk = 4096

// list is a list of entries in chunks: appending never copies what is
// already there, however long it gets (a whole dump is dirty at once).
type list struct {
	chunks [][]*entry
}

func (l *list) add(e *entry) {
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1]) == listChunk {
		l.chunks = append(l.chunks, make([]*entry, 0, listChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, e)
}

// all yields the entries in the order they were added.
func (l *list) all(yield func(*entry) bool) {
	for _, c := range l.chunks {
		for _, e := range c {
			if !yield(e) {
				return
			}
		}
	}
}

// reset empties the list, keeping one chunk for next time.
func (l *list) reset() {
	for _, c := range l.chunks {
		clear(c)
	}
	if len(l.chunks) > 0 {
		l.chunks[0] = l.chunks[0][:0]
		clear(l.chunks[1:])
		l.chunks = l.chunks[:1]
	}
}
