"""The seed: the same seed and anchor give the same rows, and its audit trail matches its data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from ikan_platform.db import make_engine, make_sessionmaker
from ikan_platform.models import AuditEvent, Booking
from ikan_platform.schema import migrate
from ikan_platform.seed import seed
from ikan_platform.services.audit import snapshot
from tests.conftest import FROZEN_NOW

SMALL = 80


def _seeded(path: Path) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        seed(session, bookings=SMALL, now=FROZEN_NOW)
        bookings = [snapshot(b) for b in session.scalars(select(Booking).order_by(Booking.id))]
        events = [
            (e.id, e.occurred_at, e.action, e.entity_type, e.entity_id, e.before, e.after)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    engine.dispose()
    return bookings, events


def test_the_seed_is_deterministic(tmp_path: Path) -> None:
    assert _seeded(tmp_path / "one.db") == _seeded(tmp_path / "two.db")


def test_every_seeded_booking_is_what_its_last_audit_event_left(tmp_path: Path) -> None:
    bookings, events = _seeded(tmp_path / "seeded.db")
    last_after = {
        entity_id: after for _, _, _, kind, entity_id, _, after in events if kind == "booking"
    }

    drifted = [b["reference"] for b in bookings if b != last_after[str(b["id"])]]

    assert drifted == []
    sent = [b for b in bookings if b["status"] in ("awaiting_supplier", "confirmed")]
    assert sent and all(b["sent_to_supplier_at"] for b in sent)
    assert all(b["sent_to_supplier_at"] is None for b in bookings if b["status"] == "new")
