"""The one rule for waits between retries."""

from __future__ import annotations

from bot.backoff import Backoff, backoff


def test_the_wait_doubles_per_attempt_up_to_the_maximum() -> None:
    waits = [backoff(attempt, 5.0, 60.0, jitter=0) for attempt in range(6)]
    assert waits == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]


def test_jitter_spreads_the_wait_around_the_capped_one() -> None:
    waits = {backoff(10, 1.0, 30.0) for _ in range(200)}
    assert all(24.0 <= w <= 36.0 for w in waits)
    assert len(waits) > 100  # spread, not one value


def test_a_very_long_run_of_failures_stays_at_the_maximum() -> None:
    # 2 ** 2000 seconds does not fit a float: a chat failing for days must not crash.
    assert backoff(2000, 5.0, 300.0, jitter=0) == 300.0


def test_a_loop_waits_longer_per_failure_and_again_from_the_start_after_a_success() -> None:
    retry = Backoff(1.0, 8.0, jitter=0)
    assert [retry.next() for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry.attempt == 5
    retry.reset()
    assert retry.next() == 1.0
