"""Bounded retries for calls to a remote API: exponential backoff with full jitter, capped in attempts and time.

Full jitter (a uniform wait in [0, min(cap, base·2^(n-1))]) spreads the retries of several app processes hitting
the same quota, and the caps make sure a user waits at most about `total_s` before getting a clear error: the
time cap covers a whole store operation (a read-compare-write is several requests), the attempt cap each request.
`sleep`, `clock` and `jitter` are injectable so tests never wait for real.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .. import logs

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # attempts in all, the first one included
    total_s: float = 30.0  # no new attempt once this much time has passed since the first
    base_s: float = 0.5
    cap_s: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random

    @classmethod
    def from_settings(cls, settings) -> RetryPolicy:
        return cls(max_attempts=max(1, int(settings.retry_attempts)), total_s=float(settings.retry_total_s))

    def backoff(self, attempt: int) -> float:
        """Wait before attempt `attempt + 1`."""
        return self.jitter() * min(self.cap_s, self.base_s * 2 ** (attempt - 1))

    def deadline(self) -> float:
        """When an operation starting now must stop retrying (on `clock`)."""
        return self.clock() + self.total_s

    def run(self, call: Callable[[], T], retryable: Callable[[BaseException], bool],
            deadline: float | None = None) -> T:
        """Call until success, a non-retryable error, or the budget is spent; the last error is re-raised.

        `deadline` (from `deadline()`) shares one time budget between the several requests of one operation;
        without it the budget is this call's own."""
        limit = self.deadline() if deadline is None else deadline
        attempt = 1
        while True:
            try:
                return call()
            except Exception as error:
                if not retryable(error) or attempt >= self.max_attempts:
                    raise
                delay = self.backoff(attempt)
                if self.clock() + delay > limit:
                    _log_retry("abandon", attempt, 0.0, error)
                    raise
                _log_retry("nouvelle tentative", attempt, delay, error)
                self.sleep(delay)
                attempt += 1


def _log_retry(name: str, attempt: int, delay: float, error: BaseException) -> None:
    status = getattr(getattr(error, "response", None), "status_code", None)
    logs.event(name, logging.WARNING, "store", attempt=attempt, wait_ms=round(delay * 1000, 1),
               error=type(error).__name__, status=status)
