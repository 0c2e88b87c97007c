"""Key press to settled screen in the console, against a bare Textual DataTable (run by hand).

Ops staff press keys all day; what they feel is the time from a key to the screen showing its
result. Both apps run headless in this process under Textual's Pilot; each press is timed until
the app is idle again (its workers done, for the console: the platform answered through the
in-process ASGI app, so no network is counted, but the platform's own work is). The bare app is a
DataTable of the same size with nothing else, so the difference is what the console adds per key.

Two numbers per key: wall time until settled (includes Pilot's idle detection, tens of ms of
sleeping that a real terminal does not have: compare, don't read it as latency), and the CPU time
the process spent on the key (the work itself; steady on a shared machine).

    .venv/bin/python -m benchmarks.console_keys [--presses 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime

import httpx
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Footer

FROZEN_NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ROWS, COLUMNS = 100, 8
OPS = "priya.nair@ikan.example"


class BareTable(App[None]):
    """The baseline: one DataTable of a console page's size, and a footer."""

    def compose(self) -> ComposeResult:
        """A table and a footer."""
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one(DataTable)
        table.add_columns(*(f"col {c}" for c in range(COLUMNS)))
        table.add_rows([[f"r{r}c{c}" for c in range(COLUMNS)] for r in range(ROWS)])
        table.focus()


async def settle(pilot: Pilot) -> None:
    """Until the app's workers are done and their messages handled."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def time_keys(pilot: Pilot, keys: list[str], presses: int) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) per press of `keys` (cycled), each until the app is settled."""
    times = []
    for n in range(presses):
        wall, cpu = time.perf_counter(), time.process_time()
        await pilot.press(keys[n % len(keys)])
        await settle(pilot)
        times.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    return times


def seeded_platform(directory: str):  # type: ignore[no-untyped-def]
    """The real platform app on a freshly seeded SQLite file, clock frozen like the tests."""
    from ikan_platform.app import create_app
    from ikan_platform.db import make_engine, make_sessionmaker
    from ikan_platform.schema import migrate
    from ikan_platform.seed import seed
    from ikan_platform.settings import PlatformSettings

    url = f"sqlite:///{directory}/keys.db"
    engine = make_engine(url)
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        seed(session, now=FROZEN_NOW)
    engine.dispose()
    settings = PlatformSettings(
        database_url=url, sandbox=True, clock=lambda: FROZEN_NOW, token_secret="b" * 32
    )
    return create_app(settings)


async def bench_bare(presses: int) -> dict[str, list[tuple[float, float]]]:
    """Cursor moves in the bare table."""
    async with BareTable().run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        return {"bare DataTable: cursor down/up": await time_keys(pilot, ["down"], presses)}


async def bench_console(presses: int, directory: str) -> dict[str, list[tuple[float, float]]]:
    """Cursor moves, queue switches and view switches in the signed-in console."""
    from ikan_console.api.client import PlatformClient
    from ikan_console.app import Connection, IkanApp

    platform = seeded_platform(directory)

    def open_client() -> PlatformClient:
        return PlatformClient("http://platform", transport=httpx.ASGITransport(app=platform))

    app = IkanApp(Connection("BENCH", "in-process", open_client), clock=lambda: FROZEN_NOW)
    results: dict[str, list[tuple[float, float]]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        users = app.screen.query_one("#users")
        ids = [users.get_option_at_index(i).id for i in range(users.option_count)]
        users.highlighted = ids.index(OPS)
        await pilot.press("enter")
        await settle(pilot)
        results["console queues: cursor down"] = await time_keys(pilot, ["down"], presses)
        results["console queues: next queue (loads a page)"] = await time_keys(
            pilot, ["right_square_bracket"], presses
        )
        results["console: switch Queues/Audit (reloads)"] = await time_keys(
            pilot, ["2", "1"], presses
        )
        await pilot.press("2")
        await settle(pilot)
        results["console audit: cursor down (diff)"] = await time_keys(pilot, ["down"], presses)
    platform.state.engine.dispose()
    return results


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    """Print median and p95 per key (wall and CPU), and the CPU median against the bare table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=40)
    presses = parser.parse_args().presses
    with tempfile.TemporaryDirectory() as directory:
        results = asyncio.run(bench_bare(presses))
        results |= asyncio.run(bench_console(presses, directory))
    bare_cpu = statistics.median(cpu for _, cpu in results["bare DataTable: cursor down/up"])
    print(f"{'key':<44} {'wall p50':>9} {'wall p95':>9} {'CPU p50':>8} {'CPU p95':>8}  CPU/bare")
    for name, times in results.items():
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        cpu = statistics.median(cpus)
        print(
            f"{name:<44} {statistics.median(walls):9.1f} {p95(walls):9.1f} "
            f"{cpu:8.1f} {p95(cpus):8.1f}  {cpu / bare_cpu:6.1f}x"
        )


if __name__ == "__main__":
    main()
