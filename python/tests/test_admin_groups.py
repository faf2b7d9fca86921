"""conveyor.Admin consumer-group calls: list/describe groups, committed offsets, lag, reset and
delete, against a broker with a group coordinator (see group_helpers.py)."""
from __future__ import annotations

import pytest

import conveyor
from conveyor import TopicPartition as TP

from group_helpers import (committed, confluent_member, group_bootstrap, make_topic, unique,  # noqa: F401
                           wait_for_state)


@pytest.fixture
def gadmin(group_bootstrap):
    with conveyor.Admin({"bootstrap.servers": group_bootstrap}) as a:
        yield a


def test_list_offsets_earliest_latest_and_by_time(group_bootstrap, gadmin):
    base = 1_700_000_000_000
    topic = make_topic(group_bootstrap, partitions=2, records_per_partition=6,
                       timestamps=[base + i * 1000 for i in range(6)])
    tps = [TP(topic, 0), TP(topic, 1)]
    assert [tp.offset for tp in gadmin.list_offsets(tps, conveyor.OFFSET_END)] == [6, 6]
    assert [tp.offset for tp in gadmin.list_offsets(tps, conveyor.OFFSET_BEGINNING)] == [0, 0]
    assert [tp.offset for tp in gadmin.list_offsets(tps, base + 2500)] == [3, 3]
    assert [tp.offset for tp in gadmin.list_offsets(tps, base + 60_000)] == [-1, -1]
    with pytest.raises(conveyor.UnknownTopicOrPartitionError):
        gadmin.list_offsets([TP(unique("missing"), 0)], timeout=5)


def test_alter_list_lag_describe_delete_an_inactive_group(group_bootstrap, gadmin):
    topic = make_topic(group_bootstrap, partitions=3, records_per_partition=10)
    group = unique("admin-offsets")
    # Nothing known yet: Dead, no members, no offsets.
    d = gadmin.describe_group(group)
    assert d.state == "Dead" and d.members == []
    assert gadmin.list_group_offsets(group) == []

    gadmin.alter_group_offsets(group, [TP(topic, 0, 3), TP(topic, 1, 10)])
    assert committed(gadmin, group) == {(topic, 0): 3, (topic, 1): 10}
    # Explicit partitions: the uncommitted one comes back as None.
    offs = gadmin.list_group_offsets(group, [TP(topic, 2), TP(topic, 0)])
    assert [(o.partition, o.offset) for o in offs] == [(0, 3), (2, None)]
    # The dict form, moving one partition.
    gadmin.alter_group_offsets(group, {(topic, 1): 4})
    assert committed(gadmin, group) == {(topic, 0): 3, (topic, 1): 4}

    lag = gadmin.group_lag(group)
    assert lag.group.group_id == group and lag.group.members == []
    rows = {(r.topic, r.partition): r for r in lag}
    assert set(rows) == {(topic, 0), (topic, 1)}
    assert (rows[(topic, 0)].current_offset, rows[(topic, 0)].log_end_offset, rows[(topic, 0)].lag) == (3, 10, 7)
    assert (rows[(topic, 1)].current_offset, rows[(topic, 1)].log_end_offset, rows[(topic, 1)].lag) == (4, 10, 6)
    assert rows[(topic, 0)].consumer_id is None and rows[(topic, 0)].host is None
    assert lag.total_lag == 13

    listed = {g.group_id: g for g in gadmin.list_groups()}
    assert group in listed
    d = gadmin.describe_group(group)
    assert d.state == "Empty" and d.members == []

    gadmin.delete_group(group)
    assert group not in {g.group_id for g in gadmin.list_groups()}
    assert gadmin.list_group_offsets(group) == []
    with pytest.raises(conveyor.GroupIdNotFoundError):
        gadmin.delete_group(group)


def test_alter_rejects_negative_offsets(group_bootstrap, gadmin):
    with pytest.raises(conveyor.InvalidArgumentError, match="must be >= 0"):
        gadmin.alter_group_offsets(unique("neg"), [TP("t", 0, -2)])


def test_committed_metadata_and_offsets_of_a_real_consumer(group_bootstrap, gadmin):
    ck = pytest.importorskip("confluent_kafka")
    topic = make_topic(group_bootstrap, partitions=2, records_per_partition=5)
    group = unique("ck-commit")
    with confluent_member(group_bootstrap, group, [topic]) as c:
        c.commit(offsets=[ck.TopicPartition(topic, 0, 2, metadata="checkpoint-a")], asynchronous=False)
    offs = {o.partition: o for o in gadmin.list_group_offsets(group)}
    assert offs[0].offset == 2 and offs[0].metadata == "checkpoint-a"
    assert 1 not in offs


def test_describe_and_lag_show_members_and_refuse_changes_while_active(group_bootstrap, gadmin):
    topic = make_topic(group_bootstrap, partitions=2, records_per_partition=8)
    group = unique("admin-live")
    gadmin.alter_group_offsets(group, [TP(topic, 0, 5)])
    with confluent_member(group_bootstrap, group, [topic], client_id="lag-test-client") as c:
        d = wait_for_state(gadmin, group, ["Stable"])
        assert d.protocol_type == "consumer" and d.protocol == "range"
        assert len(d.members) == 1
        m = d.members[0]
        assert m.client_id == "lag-test-client" and m.member_id and m.host
        assert sorted((tp.topic, tp.partition) for tp in m.assignment) == [(topic, 0), (topic, 1)]

        lag = gadmin.group_lag(group)
        rows = {r.partition: r for r in lag}
        assert rows[0].current_offset == 5 and rows[0].log_end_offset == 8 and rows[0].lag == 3
        assert rows[1].current_offset is None and rows[1].lag is None and rows[1].log_end_offset == 8
        for r in lag:
            assert (r.consumer_id, r.host, r.client_id) == (m.member_id, m.host, "lag-test-client")

        # Refused locally while the group has a member, and by delete.
        with pytest.raises(conveyor.NonEmptyGroupError, match="stop its consumers"):
            gadmin.alter_group_offsets(group, [TP(topic, 0, 0)])
        with pytest.raises(conveyor.NonEmptyGroupError):
            gadmin.delete_group(group)
        assert committed(gadmin, group)[(topic, 0)] == 5
        assert c.assignment()
    wait_for_state(gadmin, group, ["Empty"])
    gadmin.alter_group_offsets(group, [TP(topic, 0, 0)])
    assert committed(gadmin, group)[(topic, 0)] == 0


def test_broker_refuses_an_admin_commit_while_the_group_has_members(group_bootstrap, gadmin):
    """The local check aside, the broker itself must refuse generation -1 commits into a live
    group: confluent-kafka's AdminClient sends them without checking."""
    ck_admin = pytest.importorskip("confluent_kafka.admin")
    ck = pytest.importorskip("confluent_kafka")
    topic = make_topic(group_bootstrap, partitions=1, records_per_partition=3)
    group = unique("broker-refuses")
    with confluent_member(group_bootstrap, group, [topic]):
        wait_for_state(gadmin, group, ["Stable"])
        client = ck_admin.AdminClient({"bootstrap.servers": group_bootstrap})
        futures = client.alter_consumer_group_offsets(
            [ck.ConsumerGroupTopicPartitions(group, [ck.TopicPartition(topic, 0, 1)])])
        refused = (ck.KafkaError.UNKNOWN_MEMBER_ID, ck.KafkaError.ILLEGAL_GENERATION)
        try:  # librdkafka reports OffsetCommit's per-partition errors on the partitions
            result = futures[group].result(timeout=30)
            errors = [tp.error for tp in result.topic_partitions]
            assert errors and all(e is not None and e.code() in refused for e in errors), errors
        except ck.KafkaException as e:
            assert e.args[0].code() in refused, e
    assert committed(gadmin, group) == {}


def test_list_groups_state_filter(group_bootstrap, gadmin):
    topic = make_topic(group_bootstrap, partitions=1, records_per_partition=1)
    empty_group = unique("filter-empty")
    gadmin.alter_group_offsets(empty_group, [TP(topic, 0, 1)])
    live_group = unique("filter-live")
    with confluent_member(group_bootstrap, live_group, [topic]):
        wait_for_state(gadmin, live_group, ["Stable"])
        stable = {g.group_id: g for g in gadmin.list_groups(["Stable"])}
        empty = {g.group_id: g for g in gadmin.list_groups(["Empty"])}
        assert live_group in stable and empty_group not in stable
        assert empty_group in empty and live_group not in empty
        assert stable[live_group].state == "Stable" and stable[live_group].protocol_type == "consumer"
        everything = {g.group_id for g in gadmin.list_groups()}
        assert {live_group, empty_group} <= everything


def test_group_calls_validate_arguments(gadmin):
    with pytest.raises(conveyor.InvalidArgumentError):
        gadmin.describe_group("")
    with pytest.raises(conveyor.InvalidArgumentError):
        gadmin.group_lag("")
