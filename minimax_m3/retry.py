"""Retry decisions as pure functions: the transport asks, sleeps and sends; nothing here waits."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime

from minimax_m3.errors import InsufficientBalanceError, MiniMaxM3Error

__all__ = ["DEFAULT_MAX_RETRIES", "RetryPolicy", "backoff_delay", "parse_retry_after"]

DEFAULT_MAX_RETRIES = 2
_MAX_EXPONENT = 64  # 0.5 * 2**64 s is already far beyond any sensible cap


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before trying a failed call again."""

    max_retries: int = DEFAULT_MAX_RETRIES
    """Retries after the first attempt; 0 disables retrying."""
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    """A server asking to wait longer than this is not retried at all, rather than hammered."""

    def __post_init__(self) -> None:
        retries = self.max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0; got {retries!r}")
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")

    def delay_before_retry(
        self,
        error: BaseException,
        retries_done: int,
        *,
        now: float,
        random: Callable[[], float],
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the call must not be retried.

        `now` is the current UNIX time; `random` returns a float in [0, 1) for the jitter.
        """
        if not isinstance(error, MiniMaxM3Error) or retries_done >= self.max_retries:
            return None
        if not error.retryable:
            return self._wait_for_quota_reset(error, now)
        requested = parse_retry_after(error.retry_after, now)
        if requested is not None:
            return requested if requested <= self.max_retry_after else None
        return backoff_delay(retries_done, self.initial_delay, self.max_delay, random)

    def _wait_for_quota_reset(self, error: MiniMaxM3Error, now: float) -> float | None:
        # A used-up plan window (MiniMax 2056) says when it resets; worth waiting only if soon.
        if not isinstance(error, InsufficientBalanceError) or error.reset_at is None:
            return None
        wait = error.reset_at.timestamp() - now
        return max(0.0, wait) if wait <= self.max_retry_after else None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: a number of seconds or an HTTP date.

    Dates are taken relative to `now` (UNIX time); a time in the past gives 0.
    Returns None for a missing or unreadable value.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        try:
            seconds = when.timestamp() - now
        except (OverflowError, OSError, ValueError):
            return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(
    retries_done: int, initial: float, maximum: float, random: Callable[[], float]
) -> float:
    """Exponential backoff: `initial * 2**retries_done`, capped at `maximum`, minus up to 25%."""
    nominal = min(maximum, initial * 2.0 ** min(max(retries_done, 0), _MAX_EXPONENT))
    jitter = min(max(random(), 0.0), 1.0)
    return nominal * (1.0 - 0.25 * jitter)
