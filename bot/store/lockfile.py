"""An OS lock on a file, held for as long as the process keeps it: however the process ends
(a crash, SIGKILL, a power cut), the lock goes with it and no stale lock is left behind.

The file says who holds it ("pid 1234 on host"), for the message of whoever is refused.
It is never deleted: a process could be locking the old file while another creates a new
one under the same name, and both would think they hold the lock.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path


class Held(Exception):
    """Another process holds the lock; `holder` is what it wrote in the file."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is locked by {holder}")
        self.path = path
        self.holder = holder


class LockFile:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path) -> LockFile:
        """Lock `path` (creating it) or raise `Held` at once; OSError where the file system
        cannot lock."""
        # Not truncated on opening: while locked by another, the file names that holder.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
            os.close(fd)
            raise Held(path, holder or "a process that has just started") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None
