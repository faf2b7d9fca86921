package conveyor

import (
	"sort"

	"conveyor.dev/conveyor/internal/cabi"
)

// Config is a set of Kafka properties by their Kafka names ("bootstrap.servers",
// "linger.ms", "group.id", "log.dirs", ...). An unknown key or a value that does not parse
// fails the constructor with ErrInvalidConfig and a message naming the key.
type Config map[string]string

// toC builds a conveyor_config_t; the caller destroys it.
func (c Config) toC() (cabi.Struct_SS_conveyor_config_s, error) {
	conf := cabi.Conveyor_config_new()
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad key reported is deterministic
	for _, k := range keys {
		slot := newErrSlot()
		if err := slot.result(cabi.Conveyor_config_set(conf, k, c[k], slot.p)); err != nil {
			cabi.Conveyor_config_destroy(conf)
			return nil, err
		}
	}
	return conf, nil
}
