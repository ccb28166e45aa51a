"""Exponential back-off for retried work (the outbox relay, automatic steps of civil procedures)."""

from __future__ import annotations


def backoff_delay(attempts: int, base_s: float, max_s: float) -> float:
    """Seconds to wait after ``attempts`` failed attempts: 0, then ``base_s``, doubling each time,
    capped at ``max_s``. Any number of attempts is fine (a long outage can reach thousands)."""
    if attempts <= 0:
        return 0.0
    try:
        return min(max_s, base_s * 2.0 ** (attempts - 1))
    except OverflowError:  # 2.0 ** n beyond the float range: long past the cap
        return max_s
