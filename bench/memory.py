"""Peak resident memory of running processes (each with all its children), sampled in a thread."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

import psutil

MIB = 2**20


def tree_rss(pid: int) -> int:
    """RSS in bytes of a process and all its descendants; 0 once it has exited."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class PeakRss:
    """Samples the RSS of named process trees every `interval_s` while in a `with` block.

    `peaks` holds each name's peak in bytes, and under "sum" the peak of their simultaneous sum.
    """

    def __init__(self, pids: dict[str, int], interval_s: float = 0.5) -> None:
        self.pids = pids
        self.interval_s = interval_s
        self.peaks: dict[str, int] = {name: 0 for name in [*pids, "sum"]}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def sample(self) -> None:
        """Take one sample now."""
        current = {name: tree_rss(pid) for name, pid in self.pids.items()}
        current["sum"] = sum(current.values())
        for name, value in current.items():
            self.peaks[name] = max(self.peaks[name], value)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def peaks_mib(self) -> dict[str, float]:
        """The peaks in MiB."""
        return {name: value / MIB for name, value in self.peaks.items()}
