package conveyor

import "sync"

// registry maps the integer ids handed to C (callback opaques, record ids) to Go objects:
// C never holds a Go pointer (cgo's pointer-passing rules). Ids start at 1; 0 means none.
type registry[T any] struct {
	mu   sync.Mutex
	next uintptr
	m    map[uintptr]T
}

func (r *registry[T]) add(v T) uintptr {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[uintptr]T)
	}
	r.next++
	r.m[r.next] = v
	return r.next
}

func (r *registry[T]) get(id uintptr) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[id]
	return v, ok
}

func (r *registry[T]) take(id uintptr) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[id]
	if ok {
		delete(r.m, id)
	}
	return v, ok
}

func (r *registry[T]) remove(id uintptr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}
