"""Unexpected worker failures reach the user as one plain message, never as silence."""

from __future__ import annotations

from textual.worker import Worker, WorkerState


class ReportsWorkerFailures:
    """Mixin for widgets and screens that own workers started with `exit_on_error=False`.

    Expected failures (`IkanError`) are handled inside the workers; this catches the rest (a bug,
    a contract surprise) because `Worker.StateChanged` does not bubble to the App.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand a crashed worker's error to the App's one failure path."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.app.report_unexpected(event.worker.error)  # type: ignore[attr-defined]
