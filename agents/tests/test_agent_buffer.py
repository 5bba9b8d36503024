from __future__ import annotations

import pytest
from edgeorch_agent.buffer import TelemetryBuffer


def fill(buffer: TelemetryBuffer, count: int) -> None:
    for i in range(count):
        buffer.add({"n": float(i)}, ts=1000.0 + i)


def test_seqs_grow_by_one_from_zero():
    buffer = TelemetryBuffer()
    fill(buffer, 3)
    assert buffer.unacked() == [0, 1, 2]
    assert buffer.next_seq == 3


def test_a_full_buffer_drops_the_oldest_records_and_counts_them():
    buffer = TelemetryBuffer(capacity=3)
    fill(buffer, 5)
    assert buffer.unacked() == [2, 3, 4]
    assert buffer.dropped == 2
    fill(buffer, 1)
    assert buffer.dropped == 3  # cumulative since start


def test_acked_records_are_removed_and_the_rest_stay_in_order():
    buffer = TelemetryBuffer()
    fill(buffer, 5)
    assert buffer.ack([1, 3, 99]) == 2
    assert buffer.unacked() == [0, 2, 4]


def test_resend_walks_unacked_records_in_order_in_bounded_batches():
    buffer = TelemetryBuffer()
    fill(buffer, 7)
    buffer.ack([2])
    first = buffer.after(-1, limit=3)
    assert [r.seq for r in first] == [0, 1, 3]
    assert [r.seq for r in buffer.after(first[-1].seq, limit=3)] == [4, 5, 6]
    assert not buffer.has_after(6)


def test_seqs_continue_after_the_servers_last_seq_for_a_restarted_agent():
    buffer = TelemetryBuffer()
    fill(buffer, 2)  # sampled before the first welcome: provisional seqs 0 and 1
    buffer.sync(last_seq=41)
    assert buffer.unacked() == [42, 43]
    assert [r.metrics["n"] for r in buffer.after(-1, 10)] == [0.0, 1.0]  # same records, renumbered in order
    assert buffer.add({}, ts=0).seq == 44


def test_a_lower_last_seq_never_moves_seqs_backwards():
    buffer = TelemetryBuffer()
    buffer.sync(last_seq=-1)
    fill(buffer, 5)
    buffer.sync(last_seq=1)  # e.g. the server lost recent rows
    assert buffer.add({}, ts=0).seq == 5


def test_after_the_first_welcome_unacked_records_keep_their_seqs():
    buffer = TelemetryBuffer()
    buffer.sync(last_seq=9)
    fill(buffer, 3)  # 10, 11, 12 sent, but the ack was lost with the connection
    buffer.sync(last_seq=12)
    assert buffer.unacked() == [10, 11, 12]  # resent as is; the server dedups
    assert buffer.add({}, ts=0).seq == 13


def test_a_buffer_needs_room_for_at_least_one_record():
    with pytest.raises(ValueError):
        TelemetryBuffer(capacity=0)
