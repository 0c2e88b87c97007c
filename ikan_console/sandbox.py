"""The embedded sandbox: the reference platform in this process, on a free loopback port.

The one place the console imports `ikan_platform`; everything else talks to it over HTTP like
any real platform. Imported lazily, so a console pointed at a real platform never pays for
FastAPI and SQLAlchemy.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class RunningSandbox:
    """A sandbox platform serving on loopback."""

    url: str
    database_url: str
    seeded_now: bool
    _server: object
    _thread: threading.Thread

    def stop(self) -> None:
        """Ask the server to finish and wait briefly."""
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout=5)


def start_sandbox(database_url: str | None = None, *, timeout: float = 60.0) -> RunningSandbox:
    """Migrate and (first time) seed the sandbox database, then serve it on 127.0.0.1.

    Blocking: call it from a thread worker.
    """
    import uvicorn

    from ikan_platform.app import create_app
    from ikan_platform.db import make_engine, make_sessionmaker
    from ikan_platform.schema import migrate
    from ikan_platform.seed import is_seeded, seed
    from ikan_platform.settings import PlatformSettings

    overrides = {"database_url": database_url} if database_url else {}
    settings = PlatformSettings(sandbox=True, **overrides)
    engine = make_engine(settings.database_url)
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        seeded_now = not is_seeded(session)
        if seeded_now:
            seed(session)
    app = create_app(settings, engine=engine)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="ikan-sandbox-platform"
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox platform did not start")
        time.sleep(0.02)
    return RunningSandbox(
        f"http://127.0.0.1:{port}", settings.database_url, seeded_now, server, thread
    )
