package conveyor

import (
	"fmt"
	"sync"

	"conveyor.dev/conveyor/internal/cabi"
)

// ErrorCode is a Kafka error code (positive, as on the wire: protocol guide "Error Codes") or
// one of conveyor's local codes (negative, the values librdkafka uses). It is itself an
// error, so the exported codes below work as sentinels:
//
//	if errors.Is(err, conveyor.ErrUnknownTopicOrPartition) { ... }
type ErrorCode int32

// Error implements error with Kafka's upper-case name of the code.
func (c ErrorCode) Error() string { return cabi.Conveyor_err_name(int(c)) }

// Retriable reports whether Kafka marks the code retriable (a RetriableException).
func (c ErrorCode) Retriable() bool { return cabi.Conveyor_err_retriable(int(c)) != 0 }

// Sentinels for the codes Go callers test most. Any other code compares equal to
// ErrorCode(n) through errors.Is as well.
const (
	ErrUnknown                  ErrorCode = -1
	ErrOffsetOutOfRange         ErrorCode = 1
	ErrCorruptMessage           ErrorCode = 2
	ErrUnknownTopicOrPartition  ErrorCode = 3
	ErrLeaderNotAvailable       ErrorCode = 5
	ErrNotLeaderOrFollower      ErrorCode = 6
	ErrRequestTimedOut          ErrorCode = 7
	ErrMessageTooLarge          ErrorCode = 10
	ErrCoordinatorNotAvailable  ErrorCode = 15
	ErrNotCoordinator           ErrorCode = 16
	ErrInvalidTopic             ErrorCode = 17
	ErrNotEnoughReplicas        ErrorCode = 19
	ErrIllegalGeneration        ErrorCode = 22
	ErrUnknownMemberID          ErrorCode = 25
	ErrInvalidSessionTimeout    ErrorCode = 26
	ErrRebalanceInProgress      ErrorCode = 27
	ErrTopicAlreadyExists       ErrorCode = 36
	ErrInvalidPartitions        ErrorCode = 37
	ErrInvalidReplicationFactor ErrorCode = 38
	ErrInvalidConfig            ErrorCode = 40
	ErrNonEmptyGroup            ErrorCode = 68
	ErrGroupIDNotFound          ErrorCode = 69
	ErrOutOfOrderSequenceNumber ErrorCode = 45
	ErrKafkaStorageError        ErrorCode = 56
	ErrFencedInstanceID         ErrorCode = 82
	ErrLocalDestroy             ErrorCode = -197
	ErrLocalFail                ErrorCode = -196
	ErrLocalTransport           ErrorCode = -195
	ErrLocalMessageTimedOut     ErrorCode = -192
	ErrLocalPartitionEOF        ErrorCode = -191
	ErrLocalUnknownPartition    ErrorCode = -190
	ErrLocalAllBrokersDown      ErrorCode = -187
	ErrLocalInvalidArgument     ErrorCode = -186
	ErrLocalTimedOut            ErrorCode = -185
	ErrLocalQueueFull           ErrorCode = -184
	ErrLocalState               ErrorCode = -172
)

// ErrClosed is returned (wrapped in *Error with code ErrLocalState) by any call on a handle
// after Close.
var ErrClosed = &Error{Code: ErrLocalState, Name: "LOCAL_STATE", Message: "use of a closed handle"}

// Error is what every fallible call returns on failure: the code, its name, the library's
// message (naming the config key, argument or partition at fault) and Kafka's flags.
type Error struct {
	Code      ErrorCode
	Name      string
	Message   string
	Retriable bool // retrying the same operation may succeed
	Fatal     bool // the handle is unusable from now on
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Message)
}

// Is makes errors.Is(err, conveyor.ErrX) true when err carries code ErrX, and
// errors.Is(err, conveyor.ErrClosed) true for any use-after-close.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case ErrorCode:
		return e.Code == t
	case *Error:
		return e.Code == t.Code
	}
	return false
}

// errorFrom turns a C ABI result into a Go error: nil for CONVEYOR_OK, else an *Error built
// from the error object in the slot (if any; it is destroyed here) or from the code alone.
// On success the library sets the slot to NULL (conveyor.h), so nothing is read then.
func errorFrom(rc int, errp cabi.Struct_SS_conveyor_error_s) error {
	if rc == 0 {
		return nil
	}
	code := ErrorCode(rc)
	e := &Error{Code: code, Name: cabi.Conveyor_err_name(rc), Retriable: code.Retriable()}
	if errp == nil || errp.Swigcptr() == 0 {
		return e
	}
	cerr := cabi.Errorpp_value(errp)
	if cerr != nil && cerr.Swigcptr() != 0 {
		cabi.Errorpp_assign(errp, cabi.SwigcptrStruct_SS_conveyor_error_s(0))
		e.Name = cabi.Conveyor_error_name(cerr)
		e.Message = cabi.Conveyor_error_message(cerr)
		e.Retriable = cabi.Conveyor_error_retriable(cerr) != 0
		e.Fatal = cabi.Conveyor_error_fatal(cerr) != 0
		cabi.Conveyor_error_destroy(cerr)
	}
	return e
}

func codeError(code int32, message string) error {
	if code == 0 {
		return nil
	}
	c := ErrorCode(code)
	return &Error{Code: c, Name: c.Error(), Message: message, Retriable: c.Retriable()}
}

// errSlot is a C slot for the conveyor_error_t** out-parameter of one call. Slots are
// allocated once and reused (a free list that never shrinks: at most one slot per call in
// flight), so a successful call costs no extra cgo round trips.
type errSlot struct {
	p cabi.Struct_SS_conveyor_error_s
}

var slots struct {
	sync.Mutex
	free []cabi.Struct_SS_conveyor_error_s
}

func newErrSlot() errSlot {
	slots.Lock()
	if n := len(slots.free); n > 0 {
		p := slots.free[n-1]
		slots.free = slots.free[:n-1]
		slots.Unlock()
		return errSlot{p}
	}
	slots.Unlock()
	return errSlot{cabi.New_errorpp()}
}

// result converts rc and gives the slot back.
func (s errSlot) result(rc int) error {
	err := errorFrom(rc, s.p)
	slots.Lock()
	slots.free = append(slots.free, s.p)
	slots.Unlock()
	return err
}
