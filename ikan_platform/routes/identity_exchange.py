"""Exchange for identity-provider ID tokens (Entra ID, Google Workspace, generic OIDC)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from ikan_platform.errors import Problem
from ikan_platform.models import User
from ikan_platform.schemas import ExchangeIn


def user_for_id_token(session: Session, request: Request, body: ExchangeIn) -> User:
    """The provisioned user behind a verified ID token."""
    providers = getattr(request.app.state, "identity_providers", {})
    if body.provider not in providers:
        raise Problem(
            400,
            "provider_not_enabled",
            "Provider not enabled",
            detail=f"This platform has no '{body.provider}' sign-in configured.",
        )
    raise Problem(
        501,
        "provider_not_implemented",
        "Not implemented",
        detail="ID-token verification lands with issue #4.",
    )
