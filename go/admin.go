package conveyor

import (
	"context"
	"sync"

	"conveyor.dev/conveyor/internal/cabi"
)

// Admin manages topics (Kafka's Admin client: CreateTopics, DeleteTopics, Metadata,
// ListOffsets). Methods are safe for concurrent use; each blocks for at most ctx's deadline
// (30 s without one).
type Admin struct {
	mu sync.Mutex
	h  cabi.Struct_SS_conveyor_admin_s
}

// PartitionInfo describes one partition of a topic.
type PartitionInfo struct {
	Partition int32
	Leader    int32 // node id of the leader; -1 when none
}

// TopicInfo describes a topic as Metadata reports it.
type TopicInfo struct {
	Name       string
	TopicID    string // base64url UUID (KIP-516)
	Internal   bool
	Partitions []PartitionInfo
}

const defaultAdminTimeoutMs = 30000

// enter checks ctx and that the admin is open, and takes its lock; the caller defers unlock.
func (a *Admin) enter(ctx context.Context) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.h == nil {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	return a.mu.Unlock, nil
}

// NewAdmin creates an admin client ("bootstrap.servers" required). Errors: ErrInvalidConfig.
func NewAdmin(cfg Config) (*Admin, error) {
	conf, err := cfg.toC()
	if err != nil {
		return nil, err
	}
	defer cabi.Conveyor_config_destroy(conf)
	out := cabi.New_adminpp()
	defer cabi.Delete_adminpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_admin_new(conf, out, slot.p)); err != nil {
		return nil, err
	}
	return &Admin{h: cabi.Adminpp_value(out)}, nil
}

// CreateTopic creates a topic with partitions and replicationFactor (-1 for the broker's
// defaults) and topic configs by Kafka name (retention.ms, cleanup.policy, ...; may be nil).
// Errors: ErrTopicAlreadyExists, ErrInvalidTopic, ErrInvalidPartitions,
// ErrInvalidReplicationFactor, ErrInvalidConfig.
func (a *Admin) CreateTopic(ctx context.Context, name string, partitions int32, replicationFactor int16, configs Config) error {
	unlock, err := a.enter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	var conf cabi.Struct_SS_conveyor_config_s = cabi.SwigcptrStruct_SS_conveyor_config_s(0)
	if len(configs) > 0 {
		c, err := configs.toC()
		if err != nil {
			return err
		}
		defer cabi.Conveyor_config_destroy(c)
		conf = c
	}
	slot := newErrSlot()
	return slot.result(cabi.Conveyor_admin_create_topic(a.h, name, int(partitions), replicationFactor, conf,
		timeoutMs(ctx, defaultAdminTimeoutMs), slot.p))
}

// DeleteTopic deletes a topic. Errors: ErrUnknownTopicOrPartition.
func (a *Admin) DeleteTopic(ctx context.Context, name string) error {
	unlock, err := a.enter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	slot := newErrSlot()
	return slot.result(cabi.Conveyor_admin_delete_topic(a.h, name, timeoutMs(ctx, defaultAdminTimeoutMs), slot.p))
}

func topicsFromC(l cabi.Struct_SS_conveyor_topic_list_s) ([]TopicInfo, error) {
	n := cabi.Conveyor_topic_list_count(l)
	out := make([]TopicInfo, 0, n)
	for t := int64(0); t < n; t++ {
		if code := cabi.Conveyor_topic_list_error(l, t); code != 0 {
			return nil, &Error{Code: ErrorCode(code), Name: cabi.Conveyor_err_name(code),
				Message: "topic " + cabi.Conveyor_topic_list_name(l, t), Retriable: ErrorCode(code).Retriable()}
		}
		ti := TopicInfo{Name: cabi.Conveyor_topic_list_name(l, t), TopicID: cabi.Conveyor_topic_list_topic_id(l, t),
			Internal: cabi.Conveyor_topic_list_is_internal(l, t) != 0}
		pc := int64(cabi.Conveyor_topic_list_partition_count(l, t))
		for p := int64(0); p < pc; p++ {
			ti.Partitions = append(ti.Partitions, PartitionInfo{
				Partition: int32(cabi.Conveyor_topic_list_partition_id(l, t, p)),
				Leader:    int32(cabi.Conveyor_topic_list_partition_leader(l, t, p))})
		}
		out = append(out, ti)
	}
	return out, nil
}

// ListTopics returns every topic (internal ones included, marked Internal).
func (a *Admin) ListTopics(ctx context.Context) ([]TopicInfo, error) {
	unlock, err := a.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := cabi.New_topiclistpp()
	defer cabi.Delete_topiclistpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_admin_list_topics(a.h, timeoutMs(ctx, defaultAdminTimeoutMs), out, slot.p)); err != nil {
		return nil, err
	}
	l := cabi.Topiclistpp_value(out)
	defer cabi.Conveyor_topic_list_destroy(l)
	return topicsFromC(l)
}

// DescribeTopics describes the named topics. Errors: ErrUnknownTopicOrPartition naming the
// first missing topic.
func (a *Admin) DescribeTopics(ctx context.Context, names ...string) ([]TopicInfo, error) {
	unlock, err := a.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	arr, free := stringsToC(names)
	defer free()
	out := cabi.New_topiclistpp()
	defer cabi.Delete_topiclistpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Cvgo_describe_topics(a.h, arr, timeoutMs(ctx, defaultAdminTimeoutMs), out, slot.p)); err != nil {
		return nil, err
	}
	l := cabi.Topiclistpp_value(out)
	defer cabi.Conveyor_topic_list_destroy(l)
	return topicsFromC(l)
}

// ListOffsets asks each partition's leader for an offset: spec OffsetEnd (log end),
// OffsetBeginning (log start) or a timestamp in epoch ms (the earliest offset whose
// timestamp is >= it; -1 when none). The Offset of each input is ignored.
func (a *Admin) ListOffsets(ctx context.Context, parts []TopicPartition, spec int64) ([]TopicPartition, error) {
	unlock, err := a.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	arr, free := tpsToC(parts)
	defer free()
	slot := newErrSlot()
	if err := slot.result(cabi.Cvgo_list_offsets(a.h, arr, int64(len(parts)), spec, timeoutMs(ctx, defaultAdminTimeoutMs), slot.p)); err != nil {
		return nil, err
	}
	out := make([]TopicPartition, len(parts))
	for i, p := range parts {
		out[i] = TopicPartition{Topic: p.Topic, Partition: p.Partition, Offset: cabi.Cvgo_tps_offset(arr, int64(i))}
	}
	return out, nil
}

// Close frees the admin client. Idempotent.
func (a *Admin) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.h != nil {
		cabi.Conveyor_admin_destroy(a.h)
		a.h = nil
	}
	return nil
}
