"""Progress reporting for long backfills: a tqdm bar on a terminal, plain periodic lines otherwise.

Operators watch a multi-hour backfill on a terminal; cron and CI capture its output in
logs, where a redrawn bar is noise. Progress is measured in bytes of input (what gives
an honest ETA for files of unknown line count) and reports lines per second beside it.
"""
from __future__ import annotations

import time
from typing import IO

from tqdm import tqdm

PLAIN_INTERVAL_SECONDS = 10.0


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Report how far a run is: ``advance`` with the work units (bytes, or lines) and lines done since the last call.

    A run split across workers measures its work in lines (counted when it was planned).
    """

    def __init__(self, stream: IO[str], total: int | None, *, unit: str = "B", tty: bool | None = None,
                 enabled: bool = True, interval: float = PLAIN_INTERVAL_SECONDS) -> None:
        self.stream = stream
        self.total = total or None
        self.enabled = enabled
        self.tty = stream.isatty() if tty is None else tty
        self.interval = interval
        self.started = self._last_print = time.monotonic()
        self.bytes = 0
        self.lines = 0
        self.bar = None
        if enabled and self.tty:
            in_bytes = unit == "B"
            self.bar = tqdm(total=self.total, unit=unit, unit_scale=in_bytes, unit_divisor=1024 if in_bytes else 1000,
                            file=stream, desc="backfill", dynamic_ncols=True, mininterval=0.5)

    def advance(self, bytes_done: int, lines: int) -> None:
        """Add ``bytes_done`` work units and ``lines`` lines of progress."""
        self.bytes += bytes_done
        self.lines += lines
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(bytes_done)
            self.bar.set_postfix_str(f"{self.lines:,} lines, {self.rate():,.0f} lines/s", refresh=False)
            return
        now = time.monotonic()
        if now - self._last_print >= self.interval:
            self._last_print = now
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def rate(self) -> float:
        """Lines per second so far."""
        elapsed = time.monotonic() - self.started
        return self.lines / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """A one-line progress report: percent, lines, rate and ETA when the total is known."""
        elapsed = time.monotonic() - self.started
        text = f"backfill: {self.lines:,} lines in {_duration(elapsed)} ({self.rate():,.0f} lines/s)"
        if self.total:
            fraction = min(self.bytes / self.total, 1.0)
            eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
            text = f"backfill: {fraction:6.1%} " + text[len("backfill: "):] + f", ETA {_duration(eta)}"
        return text

    def close(self) -> None:
        """Finish the bar (on a terminal)."""
        if self.bar is not None:
            self.bar.close()
