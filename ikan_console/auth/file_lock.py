"""An exclusive lock on a file, shared by every process of one user: stdlib only.

`fcntl.flock` on POSIX, `msvcrt.locking` on Windows. Both lock per open file, so two
`FileLock`s on one path in the same process exclude each other too (tests use that to play two
processes). Waiting polls with a non-blocking attempt and `asyncio.sleep`: a cancelled waiter
leaves nothing behind, unlike a blocking lock call parked in a thread. The operating system
drops the lock when its process dies, so a crashed console never leaves the profile locked.
The lock file itself is never deleted (deleting a lock file races with the next locker).
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

POLL_SECONDS = 0.02


class FileLock:
    """`async with lock.held():` holds the lock on `path`, or raises `TimeoutError`."""

    def __init__(self, path: Path, timeout: float = 45.0) -> None:
        self.path = path
        self.timeout = timeout

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Wait (without blocking the event loop) until the lock is ours; release on exit."""
        fd = self._open()
        try:
            deadline = time.monotonic() + self.timeout
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{self.path} stayed locked for {self.timeout:.0f} s")
                await asyncio.sleep(POLL_SECONDS)
            try:
                yield
            finally:
                _unlock(fd)
        finally:
            os.close(fd)

    def _open(self) -> int:
        """The lock file, created 0600 in a 0700 directory (raises OSError)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, stat.S_IRUSR | stat.S_IWUSR)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)  # msvcrt locks bytes from the current position
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
