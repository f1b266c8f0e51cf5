"""One fake clock for every test: time moves only when the code under test sleeps (or the test says so)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ORIGIN = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """Seconds since ``origin`` in ``t``; a callable monotonic clock for providers, ``now()`` for timing.

    ``on_sleep`` also hears every sleep (e.g. a replay transport that records them).
    """

    t: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    origin: datetime = ORIGIN
    on_sleep: Callable[[float], None] | None = None

    def __call__(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(seconds)
        self.t += seconds

    def now(self) -> datetime:
        return self.at(self.t)

    def at(self, t: float) -> datetime:
        return self.origin + timedelta(seconds=t)
