"""Platform-test fixtures: an audit-checking API client and the seeded people to act as."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from ikan_platform.models import User
from tests.platform.harness import Api

OPS = "priya.nair@ikan.example"
OPS_2 = "tom.becker@ikan.example"
ADMIN = "sofia.marin@ikan.example"
ADMIN_2 = "daniel.kim@ikan.example"
RMC = "grace.liu@northwind.example"
SUPPLIER = "reservations@cityhome.example"


@pytest.fixture
async def api(platform_app: Any, clock: Any) -> AsyncIterator[Api]:
    """The real platform app behind a client that checks the audit trail of every write."""
    client = Api(platform_app, clock)
    yield client
    await client.aclose()


@pytest.fixture
def traveler(platform_app: Any) -> str:
    """The email of a seeded traveler with a portal account."""
    with platform_app.state.sessionmaker() as session:
        return session.scalars(select(User.email).where(User.role == "traveler")).first()


@pytest.fixture
def role_emails(traveler: str) -> dict[str, str]:
    """One seeded user per role."""
    return {
        "rmc": RMC,
        "operations": OPS,
        "admin": ADMIN,
        "supplier": SUPPLIER,
        "traveler": traveler,
    }
