"""Cold start of the console versus a bare Textual app, in the same run (run by hand).

Each case is a fresh Python process that starts an app headless and exits right after its first
frame, so the numbers include interpreter start and imports, as a user feels them. A third case
measures the embedded sandbox: from process start until the sign-in list is on screen.

    .venv/bin/python benchmarks/console_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

BARE = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Bare().run(headless=True)
"""

CONSOLE_FIRST_FRAME = """
from ikan_console.api.client import PlatformClient
from ikan_console.app import Connection, IkanApp
class FirstFrame(IkanApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(self.exit)
FirstFrame(Connection("BENCH", "unreachable", lambda: PlatformClient("http://127.0.0.1:9"))).run(
    headless=True)
"""

SANDBOX_READY = """
import sys
from ikan_console.api.client import PlatformClient
from ikan_console.app import Connection, IkanApp
from ikan_console.sandbox import start_sandbox
class UsersListed(IkanApp):
    def on_mount(self):
        super().on_mount()
        self.set_interval(0.01, self._check)
    def _check(self):
        users = self.screen.query("#users")
        if users and users.first().option_count:
            self.exit()
url = sys.argv[1]
UsersListed(Connection("SANDBOX", "bench", lambda: PlatformClient(start_sandbox(url).url))).run(
    headless=True)
"""


def time_process(code: str, *args: str) -> float:
    """Wall time of one fresh interpreter running `code`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    """Print medians and the console's overhead over bare Textual."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        seeded = f"sqlite:///{tmp}/bench.db"
        time_process(SANDBOX_READY, seeded)  # first start seeds; measure warm starts
        cases = {
            "bare Textual app, first frame": (BARE,),
            "ikan console, first frame (sign-in)": (CONSOLE_FIRST_FRAME,),
            "ikan console + sandbox, users listed": (SANDBOX_READY, seeded),
        }
        results = {}
        for name, (code, *args) in cases.items():
            times = sorted(time_process(code, *args) for _ in range(runs))
            results[name] = statistics.median(times)
            print(
                f"{name:<40} median {results[name]:.2f} s  "
                f"(min {times[0]:.2f}, max {times[-1]:.2f}, n={runs})"
            )
        bare = results["bare Textual app, first frame"]
        for name, value in results.items():
            print(f"{name:<40} {value / bare:.2f}x bare Textual")
        start = time.perf_counter()
        time_process(SANDBOX_READY, f"sqlite:///{tmp}/fresh.db")
        print(
            f"{'first sandbox start (seeds 600 bookings)':<40} {time.perf_counter() - start:.2f} s"
        )


if __name__ == "__main__":
    main()
