package conveyor

import (
	"context"

	"conveyor.dev/conveyor/internal/cabi"
)

// GroupListing is a group as ListGroups reports it. State is "" from brokers older than
// ListGroups v4 (KIP-518).
type GroupListing struct {
	GroupID      string
	ProtocolType string // "consumer" for consumer groups; "" for offsets-only groups
	State        string
}

// GroupMember is one member of a group as DescribeGroups reports it.
type GroupMember struct {
	MemberID   string
	InstanceID string // group.instance.id of a static member (KIP-345), "" otherwise
	ClientID   string
	Host       string
	Assignment []TopicPartition // Offset unused
}

// GroupDescription is a group as DescribeGroups reports it. An unknown group is state "Dead"
// with no members (Kafka's answer), not an error.
type GroupDescription struct {
	GroupID      string
	State        string // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
	ProtocolType string
	Protocol     string // the chosen assignor (e.g. "range") when Stable
	Coordinator  int32  // node id
	Members      []GroupMember
}

// PartitionLag is one row of kafka-consumer-groups --describe: CurrentOffset is the committed
// offset (-1: none), LogEndOffset the high watermark (-1: unknown), Lag their difference (-1
// when either is unknown); ConsumerID/Host/ClientID are "" when no member owns the partition.
type PartitionLag struct {
	Topic                            string
	Partition                        int32
	CurrentOffset, LogEndOffset, Lag int64
	ConsumerID, Host, ClientID       string
	Err                              error
}

// GroupLag is a group's description and its per-partition lag rows, sorted by topic and
// partition.
type GroupLag struct {
	Group      GroupDescription
	Partitions []PartitionLag
}

// TotalLag sums the known lags.
func (g *GroupLag) TotalLag() int64 {
	var total int64
	for _, p := range g.Partitions {
		if p.Lag > 0 {
			total += p.Lag
		}
	}
	return total
}

// CommittedOffset is one committed offset of a group (OffsetFetch): Offset -1 when nothing is
// committed; Metadata exactly as committed.
type CommittedOffset struct {
	TopicPartition
	LeaderEpoch int32
	Metadata    string
	Err         error
}

// ListGroups lists the groups known to the cluster, sorted by id; states (e.g. "Stable",
// "Empty") keeps only groups in those states.
func (a *Admin) ListGroups(ctx context.Context, states ...string) ([]GroupListing, error) {
	unlock, err := a.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	arr, free := stringsToC(states)
	defer free()
	out := cabi.New_grouplistpp()
	defer cabi.Delete_grouplistpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Cvgo_list_groups(a.h, arr, timeoutMs(ctx, defaultAdminTimeoutMs), out, slot.p)); err != nil {
		return nil, err
	}
	l := cabi.Grouplistpp_value(out)
	defer cabi.Conveyor_group_list_destroy(l)
	n := cabi.Conveyor_group_list_count(l)
	groups := make([]GroupListing, n)
	for i := int64(0); i < n; i++ {
		groups[i] = GroupListing{GroupID: cabi.Conveyor_group_list_group_id(l, i),
			ProtocolType: cabi.Conveyor_group_list_protocol_type(l, i), State: cabi.Conveyor_group_list_state(l, i)}
	}
	return groups, nil
}

func describeFromC(d cabi.Struct_SS_conveyor_group_description_s) GroupDescription {
	g := GroupDescription{GroupID: cabi.Conveyor_group_description_group_id(d),
		State: cabi.Conveyor_group_description_state(d), ProtocolType: cabi.Conveyor_group_description_protocol_type(d),
		Protocol: cabi.Conveyor_group_description_protocol(d), Coordinator: int32(cabi.Conveyor_group_description_coordinator(d))}
	for m := int64(0); m < cabi.Conveyor_group_description_member_count(d); m++ {
		mem := GroupMember{MemberID: cabi.Conveyor_group_description_member_id(d, m),
			InstanceID: cabi.Conveyor_group_description_member_instance_id(d, m),
			ClientID:   cabi.Conveyor_group_description_member_client_id(d, m),
			Host:       cabi.Conveyor_group_description_member_host(d, m)}
		for i := int64(0); i < cabi.Conveyor_group_description_member_partition_count(d, m); i++ {
			mem.Assignment = append(mem.Assignment, TopicPartition{Topic: cabi.Cvgo_member_partition_topic(d, m, i),
				Partition: int32(cabi.Cvgo_member_partition_index(d, m, i))})
		}
		g.Members = append(g.Members, mem)
	}
	return g
}

// DescribeGroup describes one group: state, protocol, members and their assignments.
func (a *Admin) DescribeGroup(ctx context.Context, group string) (*GroupDescription, error) {
	unlock, err := a.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := cabi.New_groupdescpp()
	defer cabi.Delete_groupdescpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_admin_describe_group(a.h, group, timeoutMs(ctx, defaultAdminTimeoutMs), out, slot.p)); err != nil {
		return nil, err
	}
	d := cabi.Groupdescpp_value(out)
	defer cabi.Conveyor_group_description_destroy(d)
	g := describeFromC(d)
	return &g, nil
}

// GroupLag describes a group and computes its lag per partition (DescribeGroups +
// OffsetFetch + ListOffsets latest), as `conveyor group describe` and
// kafka-consumer-groups --describe do.
func (a *Admin) GroupLag(ctx context.Context, group string) (*GroupLag, error) {
	unlock, err := a.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := cabi.New_grouplagpp()
	defer cabi.Delete_grouplagpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_admin_group_lag(a.h, group, timeoutMs(ctx, defaultAdminTimeoutMs), out, slot.p)); err != nil {
		return nil, err
	}
	l := cabi.Grouplagpp_value(out)
	defer cabi.Conveyor_group_lag_destroy(l)
	res := &GroupLag{Group: describeFromC(cabi.Conveyor_group_lag_group(l))}
	for i := int64(0); i < cabi.Conveyor_group_lag_count(l); i++ {
		res.Partitions = append(res.Partitions, PartitionLag{Topic: cabi.Conveyor_group_lag_topic(l, i),
			Partition:     int32(cabi.Conveyor_group_lag_partition(l, i)),
			CurrentOffset: cabi.Conveyor_group_lag_current_offset(l, i), LogEndOffset: cabi.Conveyor_group_lag_log_end_offset(l, i),
			Lag: cabi.Conveyor_group_lag_lag(l, i), ConsumerID: cabi.Conveyor_group_lag_consumer_id(l, i),
			Host: cabi.Conveyor_group_lag_host(l, i), ClientID: cabi.Conveyor_group_lag_client_id(l, i),
			Err: codeError(int32(cabi.Conveyor_group_lag_error(l, i)), "")})
	}
	return res, nil
}

// ListGroupOffsets returns the group's committed offsets for parts (nil: every partition the
// group has committed).
func (a *Admin) ListGroupOffsets(ctx context.Context, group string, parts []TopicPartition) ([]CommittedOffset, error) {
	unlock, err := a.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	arr, free := tpsToC(parts)
	defer free()
	out := cabi.New_groupoffsetspp()
	defer cabi.Delete_groupoffsetspp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_admin_list_group_offsets(a.h, group, arr, int64(len(parts)),
		timeoutMs(ctx, defaultAdminTimeoutMs), out, slot.p)); err != nil {
		return nil, err
	}
	o := cabi.Groupoffsetspp_value(out)
	defer cabi.Conveyor_group_offsets_destroy(o)
	res := make([]CommittedOffset, cabi.Conveyor_group_offsets_count(o))
	for i := range res {
		j := int64(i)
		res[i] = CommittedOffset{TopicPartition: TopicPartition{Topic: cabi.Conveyor_group_offsets_topic(o, j),
			Partition: int32(cabi.Conveyor_group_offsets_partition(o, j)), Offset: cabi.Conveyor_group_offsets_offset(o, j)},
			LeaderEpoch: int32(cabi.Conveyor_group_offsets_leader_epoch(o, j)), Metadata: cabi.Conveyor_group_offsets_metadata(o, j),
			Err: codeError(int32(cabi.Conveyor_group_offsets_error(o, j)), "")}
	}
	return res, nil
}

// AlterGroupOffsets sets a group's committed offsets (absolute, >= 0), as Kafka's
// alterConsumerGroupOffsets and `conveyor group reset-offsets --execute` do. Refused with
// ErrNonEmptyGroup while the group has members.
func (a *Admin) AlterGroupOffsets(ctx context.Context, group string, offsets []TopicPartition) error {
	unlock, err := a.enter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	arr, free := tpsToC(offsets)
	defer free()
	slot := newErrSlot()
	return slot.result(cabi.Conveyor_admin_alter_group_offsets(a.h, group, arr, int64(len(offsets)),
		timeoutMs(ctx, defaultAdminTimeoutMs), slot.p))
}

// DeleteGroup deletes a group and its committed offsets. Errors: ErrNonEmptyGroup (it has
// members), ErrGroupIDNotFound.
func (a *Admin) DeleteGroup(ctx context.Context, group string) error {
	unlock, err := a.enter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	slot := newErrSlot()
	return slot.result(cabi.Conveyor_admin_delete_group(a.h, group, timeoutMs(ctx, defaultAdminTimeoutMs), slot.p))
}
