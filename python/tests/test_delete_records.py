"""DeleteRecords through conveyor's Admin against the embedded broker (KIP-107)."""
import pytest

import conveyor
from conveyor import TopicPartition


def test_delete_records_moves_low_watermark_and_refuses_beyond_hw():
    with conveyor.Broker() as broker:
        conf = {"bootstrap.servers": broker.bootstrap_servers}
        admin = conveyor.Admin(conf)
        admin.create_topic("dr", partitions=1)
        with conveyor.Producer(conf) as p:
            for i in range(10):
                p.produce("dr", value=b"v%d" % i)
            p.flush()
        tp = TopicPartition("dr", 0)
        assert admin.delete_records({tp: 4}) == {tp: 4}
        assert admin.list_offsets([tp], conveyor.OFFSET_BEGINNING)[0].offset == 4
        with pytest.raises(conveyor.OffsetOutOfRangeError):
            admin.delete_records({tp: 99})
        assert admin.delete_records({tp: -1}) == {tp: 10}
        admin.close()
