"""A one-line progress display for long ingests: records, records/s, bytes and ETA; silent off a TTY."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total_bytes: int | None, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total_bytes = total_bytes
        self.started = time.monotonic()
        self._last_draw = 0.0
        self.done_bytes = 0
        self.records = 0

    def update(self, records: int, done_bytes: int) -> None:
        self.records = records
        self.done_bytes = done_bytes
        now = time.monotonic()
        if self.enabled and now - self._last_draw >= 0.5:
            self._last_draw = now
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        rate = self.records / elapsed
        text = f"{self.records:,} records  {rate:,.0f} records/s"
        if self.total_bytes:
            fraction = min(self.done_bytes / self.total_bytes, 1.0)
            text += f"  {fraction:6.1%}"
            if 0 < fraction < 1:
                text += f"  ETA {_duration(elapsed * (1 - fraction) / fraction)}"
        return text

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
