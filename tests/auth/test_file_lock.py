"""The per-profile refresh lock: one holder at a time, across open files and processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ikan_console.auth.file_lock import FileLock


async def test_two_locks_on_one_file_take_turns(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "prod.refresh.lock"
    order: list[str] = []

    async def hold(name: str, lock: FileLock) -> None:
        async with lock.held():
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(hold("a", FileLock(path)), hold("b", FileLock(path)))

    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


async def test_a_lock_held_too_long_times_out_and_a_cancelled_waiter_leaves_it_free(
    tmp_path: Path,
) -> None:
    path = tmp_path / "prod.refresh.lock"
    async with FileLock(path).held():
        with pytest.raises(TimeoutError):
            async with FileLock(path, timeout=0.1).held():
                pass
        waiter = asyncio.ensure_future(FileLock(path).held().__aenter__())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter

    async with FileLock(path, timeout=1).held():
        pass  # nobody was left holding it


async def test_another_process_holding_the_lock_makes_this_one_wait(tmp_path: Path) -> None:
    path = tmp_path / "prod.refresh.lock"
    holder = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from ikan_console.auth.file_lock import FileLock

        async def main():
            async with FileLock(Path({str(path)!r})).held():
                print("held", flush=True)
                sys.stdin.readline()

        asyncio.run(main())
        """
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        holder,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert process.stdin is not None and process.stdout is not None
    assert (await asyncio.wait_for(process.stdout.readline(), 10)).strip() == b"held"

    with pytest.raises(TimeoutError):
        async with FileLock(path, timeout=0.2).held():
            pass
    process.stdin.write(b"\n")
    await process.stdin.drain()
    async with FileLock(path, timeout=10).held():
        pass
    await process.wait()
