"""The programs this controller spawned and has not reaped yet, and the exit status of those it
reaped (a program may also be one adopted from an earlier controller: not ours to reap)."""

from __future__ import annotations

import os


class Children:
    def __init__(self) -> None:
        self._running: set[int] = set()  # pids we spawned and have not reaped yet
        self._exits: dict[int, int] = {}  # exit status of those we reaped

    def add(self, pid: int) -> None:
        self._running.add(pid)

    def reap(self, pid: int) -> int | None:
        """The exit status of a child of ours that ended (reaping it), else None."""
        if pid in self._running:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = 0, 0
                self._running.discard(pid)
            if done:
                self._running.discard(pid)
                self._exits[pid] = os.waitstatus_to_exitcode(status)
        return self._exits.get(pid)

    def reap_ended(self) -> None:
        """Reaps the children that ended; the others keep running, to be adopted."""
        for pid in list(self._running):
            self.reap(pid)
