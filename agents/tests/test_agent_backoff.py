from __future__ import annotations

import random

from edgeorch_agent.backoff import Backoff


def test_the_ceiling_doubles_until_the_cap():
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(1))
    ceilings = []
    for _ in range(10):
        ceilings.append(backoff.ceiling())
        backoff.next_delay()
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]


def test_every_delay_is_jittered_between_zero_and_the_ceiling():
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(7))
    delays = []
    for _ in range(200):
        ceiling = backoff.ceiling()
        delay = backoff.next_delay()
        assert 0.0 <= delay <= ceiling
        delays.append(delay)
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule
    assert max(delays) <= 30.0


def test_reset_starts_again_from_the_base():
    backoff = Backoff(base=0.5, cap=30.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.ceiling() == 0.5


def test_a_long_outage_does_not_overflow():
    backoff = Backoff(base=0.5, cap=30.0)
    backoff.attempt = 10_000
    assert backoff.next_delay() <= 30.0
