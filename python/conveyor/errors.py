"""Exceptions raised by conveyor: one KafkaError hierarchy keyed by Kafka error code.

Every error carries ``.code`` (the Kafka wire error code, or a negative local code such as
-185 ``LOCAL_TIMED_OUT``), ``.name`` (Kafka's upper-case name), ``.message``, ``.retriable``
(Kafka marks the error a RetriableException) and ``.fatal`` (the client is unusable).
Common codes have subclasses, so ``except conveyor.UnknownTopicOrPartitionError`` works;
some also derive from the matching built-in (``TimeoutError``, ``BufferError``,
``ValueError``).
"""
from __future__ import annotations

from typing import Dict, Type


class KafkaError(Exception):
    """Base of every conveyor error."""

    code: int = -1
    default_name: str = "UNKNOWN_SERVER_ERROR"

    def __init__(self, message: str = "", *, code: int | None = None, name: str | None = None,
                 retriable: bool | None = None, fatal: bool = False) -> None:
        if code is not None:
            self.code = code
        self.name = name or self.default_name
        self.message = message or self.name
        if retriable is None:
            try:
                from . import _conveyor
                retriable = _conveyor.err_retriable(self.code)
            except ImportError:
                retriable = False
        self.retriable = bool(retriable)
        self.fatal = bool(fatal)
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.message.startswith(self.name):
            return self.message
        return f"{self.name}: {self.message}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(code={self.code}, name={self.name!r}, "
                f"message={self.message!r}, retriable={self.retriable})")

    def __reduce__(self):
        return (_rebuild, (self.code, self.name, self.message, self.retriable, self.fatal))


class OffsetOutOfRangeError(KafkaError):
    code, default_name = 1, "OFFSET_OUT_OF_RANGE"


class CorruptMessageError(KafkaError):
    code, default_name = 2, "CORRUPT_MESSAGE"


class UnknownTopicOrPartitionError(KafkaError):
    code, default_name = 3, "UNKNOWN_TOPIC_OR_PARTITION"


class LeaderNotAvailableError(KafkaError):
    code, default_name = 5, "LEADER_NOT_AVAILABLE"


class NotLeaderOrFollowerError(KafkaError):
    code, default_name = 6, "NOT_LEADER_OR_FOLLOWER"


class RequestTimedOutError(KafkaError):
    code, default_name = 7, "REQUEST_TIMED_OUT"


class MessageTooLargeError(KafkaError):
    code, default_name = 10, "MESSAGE_TOO_LARGE"


class InvalidTopicError(KafkaError, ValueError):
    code, default_name = 17, "INVALID_TOPIC_EXCEPTION"


class NotEnoughReplicasError(KafkaError):
    code, default_name = 19, "NOT_ENOUGH_REPLICAS"


class UnsupportedVersionError(KafkaError):
    code, default_name = 35, "UNSUPPORTED_VERSION"


class TopicAlreadyExistsError(KafkaError):
    code, default_name = 36, "TOPIC_ALREADY_EXISTS"


class InvalidPartitionsError(KafkaError, ValueError):
    code, default_name = 37, "INVALID_PARTITIONS"


class InvalidReplicationFactorError(KafkaError, ValueError):
    code, default_name = 38, "INVALID_REPLICATION_FACTOR"


class InvalidConfigError(KafkaError, ValueError):
    """An unknown config key or a bad value; the message names the key."""
    code, default_name = 40, "INVALID_CONFIG"


class InvalidRequestError(KafkaError):
    code, default_name = 42, "INVALID_REQUEST"


class OutOfOrderSequenceError(KafkaError):
    code, default_name = 45, "OUT_OF_ORDER_SEQUENCE_NUMBER"


class KafkaStorageError(KafkaError):
    code, default_name = 56, "KAFKA_STORAGE_ERROR"


class NetworkError(KafkaError):
    code, default_name = 13, "NETWORK_EXCEPTION"


# Consumer group administration (Admin group calls, `conveyor group`).
class NonEmptyGroupError(KafkaError):
    """The group still has members: stop its consumers before deleting it or resetting its
    offsets."""
    code, default_name = 68, "NON_EMPTY_GROUP"


class GroupIdNotFoundError(KafkaError):
    code, default_name = 69, "GROUP_ID_NOT_FOUND"


class GroupSubscribedToTopicError(KafkaError):
    code, default_name = 86, "GROUP_SUBSCRIBED_TO_TOPIC"


# Local (client-side) codes; the values follow librdkafka's.
class DestroyedError(KafkaError):
    code, default_name = -197, "LOCAL_DESTROY"


class LocalFailError(KafkaError):
    code, default_name = -196, "LOCAL_FAIL"


class TransportError(KafkaError):
    code, default_name = -195, "LOCAL_TRANSPORT"


class MessageTimedOutError(KafkaError):
    code, default_name = -192, "LOCAL_MSG_TIMED_OUT"


class UnknownPartitionError(KafkaError):
    code, default_name = -190, "LOCAL_UNKNOWN_PARTITION"


class AllBrokersDownError(KafkaError):
    code, default_name = -187, "LOCAL_ALL_BROKERS_DOWN"


class InvalidArgumentError(KafkaError, ValueError):
    code, default_name = -186, "LOCAL_INVALID_ARG"


class KafkaTimeoutError(KafkaError, TimeoutError):
    code, default_name = -185, "LOCAL_TIMED_OUT"


class QueueFullError(KafkaError, BufferError):
    """buffer.memory is used up: call ``poll()`` and produce again (confluent-kafka raises
    BufferError in the same case)."""
    code, default_name = -184, "LOCAL_QUEUE_FULL"


class StateError(KafkaError):
    """The client is closed or in the wrong state for the call."""
    code, default_name = -172, "LOCAL_STATE"


# Consumer groups (the group coordinator's answers a member sees).
class CoordinatorLoadInProgressError(KafkaError):
    code, default_name = 14, "COORDINATOR_LOAD_IN_PROGRESS"


class CoordinatorNotAvailableError(KafkaError):
    code, default_name = 15, "COORDINATOR_NOT_AVAILABLE"


class NotCoordinatorError(KafkaError):
    code, default_name = 16, "NOT_COORDINATOR"


class IllegalGenerationError(KafkaError):
    """A commit from an old generation: the member rejoins; commit again after it."""
    code, default_name = 22, "ILLEGAL_GENERATION"


class InvalidGroupIdError(KafkaError, ValueError):
    """No (or an invalid) ``group.id``: subscribe() and commits need one."""
    code, default_name = 24, "INVALID_GROUP_ID"


class UnknownMemberIdError(KafkaError):
    code, default_name = 25, "UNKNOWN_MEMBER_ID"


class InvalidSessionTimeoutError(KafkaError):
    code, default_name = 26, "INVALID_SESSION_TIMEOUT"


class RebalanceInProgressError(KafkaError):
    """The group is rebalancing: commit again once poll() delivered the new assignment."""
    code, default_name = 27, "REBALANCE_IN_PROGRESS"


class FencedInstanceIdError(KafkaError):
    """Another consumer took over this ``group.instance.id`` (KIP-345)."""
    code, default_name = 82, "FENCED_INSTANCE_ID"


_BY_CODE: Dict[int, Type[KafkaError]] = {
    cls.code: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, KafkaError) and cls is not KafkaError
}


def error_from_native(code: int, name: str, message: str, retriable: bool, fatal: bool) -> KafkaError:
    """Builds the exception for a native error (called by the extension)."""
    cls = _BY_CODE.get(code, KafkaError)
    return cls(message, code=code, name=name, retriable=retriable, fatal=fatal)


def _rebuild(code, name, message, retriable, fatal):
    return error_from_native(code, name, message, retriable, fatal)


__all__ = ["KafkaError", "error_from_native"] + sorted(c.__name__ for c in _BY_CODE.values())
