package conveyor

import (
	"sync"
	"sync/atomic"
)

// registry maps the integer ids handed to C as callback opaques to Go objects: C never holds
// a Go pointer (cgo's pointer-passing rules).
type registry[T any] struct {
	next atomic.Uintptr
	m    sync.Map // uintptr -> T
}

func (r *registry[T]) add(v T) uintptr {
	id := r.next.Add(1)
	r.m.Store(id, v)
	return id
}

func (r *registry[T]) get(id uintptr) (T, bool) {
	v, ok := r.m.Load(id)
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

func (r *registry[T]) take(id uintptr) (T, bool) {
	v, ok := r.m.LoadAndDelete(id)
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

func (r *registry[T]) remove(id uintptr) { r.m.Delete(id) }
