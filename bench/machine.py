"""Other work on the machine during a measurement: its CPU time, so that a figure taken
while something else ran (another import, a test suite) can be told apart.

"Foreign" processes: every process outside the measured trees, except PostgreSQL's
backends serving the measured database and PostgreSQL's own helper processes (they work
for whoever writes). A PostgreSQL backend serving another database is foreign.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

import psutil


def _is_ours(process: psutil.Process, cmdline: list[str], own: set[int],
             database: str | None) -> bool:
    if process.pid in own:
        return True
    text = " ".join(cmdline)
    if not text.startswith("postgres:"):
        return False
    # "postgres: 15/main: USER DBNAME HOST(PORT) STATE" for a backend,
    # "postgres: 15/main: autovacuum worker DBNAME", or a helper ("... checkpointer").
    parts = text.split()
    if parts[2:4] == ["autovacuum", "worker"]:
        return len(parts) < 5 or parts[4] == database
    if len(parts) >= 5 and " ".join(parts[2:4]) not in _PG_HELPERS:
        return parts[3] == database
    return True


_PG_HELPERS = {"background writer", "autovacuum launcher", "logical replication",
               "stats collector", "walwriter", "checkpointer", "archiver"}


def _label(cmdline: list[str], name: str) -> str:
    text = " ".join(cmdline) or name
    return text[:80]


class ForeignCpu:
    """Samples, every `interval` seconds, the CPU time of foreign processes."""

    def __init__(self, own_pids: Callable[[], Iterable[int]], database: str | None,
                 interval: float = 1.0) -> None:
        self._own_pids = own_pids
        self._database = database
        self._last: dict[int, float] = {}
        self.seconds = 0.0
        self.by_command: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._started = 0.0
        self.wall = 0.0

    def _sample(self, count: bool) -> None:
        own = set(self._own_pids()) | {os.getpid()}
        for pid in list(own):
            with contextlib.suppress(psutil.Error):
                own.update(child.pid for child in psutil.Process(pid).children(recursive=True))
        seen: dict[int, float] = {}
        for process in psutil.process_iter(["cmdline", "name", "cpu_times"]):
            with contextlib.suppress(psutil.Error):
                info = process.info
                if info["cpu_times"] is None:
                    continue
                cmdline = info["cmdline"] or []
                if _is_ours(process, cmdline, own, self._database):
                    continue
                used = info["cpu_times"].user + info["cpu_times"].system
                seen[process.pid] = used
                if count and process.pid in self._last:
                    delta = used - self._last[process.pid]
                    if delta > 0:
                        self.seconds += delta
                        self.by_command[_label(cmdline, info["name"] or "")] += delta
        self._last = seen

    def _run(self, interval: float) -> None:
        self._sample(count=False)
        while not self._stop.wait(interval):
            self._sample(count=True)

    def __enter__(self) -> ForeignCpu:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.perf_counter() - self._started

    def figures(self) -> dict:
        """CPU seconds other work used, and that as cores busy on average."""
        return {
            "foreign_cpu_seconds": round(self.seconds, 1),
            "foreign_cores_busy": round(self.seconds / self.wall, 2) if self.wall else 0.0,
            "foreign_top": [
                [command, round(seconds, 1)] for command, seconds in self.by_command.most_common(3)
                if seconds >= 0.5
            ],
        }


def wait_quiet(*, max_wait: float, threshold: float = 0.3, window: float = 5.0,
               log: Callable[[str], None] = print) -> dict:
    """Wait (up to `max_wait` seconds) until other processes use less than `threshold`
    cores over `window` seconds; return the last window's figures."""
    started = time.perf_counter()
    warned = False
    while True:
        with ForeignCpu(lambda: (), None, interval=window / 5) as sampler:
            time.sleep(window)
        figures = sampler.figures()
        figures["waited_seconds"] = round(time.perf_counter() - started - window, 1)
        if figures["foreign_cores_busy"] < threshold:
            return figures
        if time.perf_counter() - started > max_wait:
            log(f"  machine still busy after {max_wait:.0f} s: measuring anyway ({figures})")
            return figures
        if not warned:
            log(f"  waiting for a quiet machine: {figures['foreign_top']}")
            warned = True
