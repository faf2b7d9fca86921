// Package conveyor is the Go binding of conveyor, a Kafka-compatible event-streaming broker
// and client library: embed a whole broker in a Go program (StartBroker), and produce,
// consume (by assignment or in a consumer group) and administer topics against conveyor or
// any Kafka broker.
//
// The package wraps conveyor's C ABI (capi/include/conveyor/conveyor.h) through a cgo layer
// that SWIG generates (internal/cabi). Building needs libconveyor.so: build the repository
// with CMake, then point cgo at it, for example
//
//	CGO_LDFLAGS="-L$REPO/build/capi -Wl,-rpath,$REPO/build/capi" go test ./...
//
// Conventions:
//   - Configuration is a Config (map of Kafka property names to string values); an unknown
//     key or a bad value fails the constructor with an *Error of code ErrInvalidConfig whose
//     message names the key.
//   - Errors are *Error values carrying the Kafka error code; errors.Is(err, ErrX) tests the
//     code (ErrorCode constants are the sentinels) and errors.Is(err, ErrClosed) any use of
//     a closed handle.
//   - Blocking calls take a context.Context first: its deadline bounds the call, and
//     cancelling it wakes a blocked Consumer.Poll.
//   - Every handle has Close() error, idempotent. A process that exits without closing a
//     Broker leaves its data directory recoverable (the log's tail is re-validated on start).
//   - Callbacks (delivery reports, rebalance listeners) never run on a thread Go does not
//     know: the C library runs them inside the poll calls this package makes.
package conveyor
