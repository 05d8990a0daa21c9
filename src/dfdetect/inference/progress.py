"""Progress of a scoring pass (evaluate, predict): files done, rate, time left.

In a terminal it is a tqdm bar. Anywhere else (``nohup ... > log``, a pipe, a notebook, CI) it
is plain lines, one every ``interval`` seconds and one at the end, never bar redraws that fill
a log file with carriage returns. Lines go to stderr, like the bar: stdout keeps the results.

Example lines::

    evaluate test: 1200/5000 files (24%) · 41.3 files/s · ETA 0:01:32
    evaluate test: 5000/5000 files · 40.8 files/s · 0:02:03

Use it as the ``progress`` callback of ``score(paths, progress)``::

    with FileProgress(len(paths), "predict") as bar:
        predictions = list(scorer.score(paths, bar.update))
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from dfdetect.console import fmt_seconds, is_terminal


class FileProgress:
    """Counts files done; draws a bar on a terminal, else prints a line now and then."""

    def __init__(self, total: int, desc: str, enabled: bool = True, stream: TextIO | None = None,
                 interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.desc, self.done = int(total), desc, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled) and self.total > 0
        self.interval, self.clock = interval, clock
        self.t0 = self._last = clock()
        self._bar = None
        if self.enabled and is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit="file", leave=False,
                             file=self.stream)

    def __enter__(self) -> FileProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rate(self) -> float:
        elapsed = self.clock() - self.t0
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self, final: bool = False) -> str:
        rate = self.rate()
        if final:
            return (f"{self.desc}: {self.done}/{self.total} files · {rate:.1f} files/s · "
                    f"{fmt_seconds(self.clock() - self.t0)}")
        eta = fmt_seconds((self.total - self.done) / rate) if rate > 0 else "?"
        return (f"{self.desc}: {self.done}/{self.total} files ({100 * self.done / self.total:.0f}%)"
                f" · {rate:.1f} files/s · ETA {eta}")

    def update(self, n: int = 1) -> None:
        """``n`` more files scored (ok or failed)."""
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        now = self.clock()
        if now - self._last >= self.interval and self.done < self.total:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """The last line (plain output) or the bar's removal (terminal)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        else:
            print(self.line(final=True), file=self.stream, flush=True)
        self.enabled = False
