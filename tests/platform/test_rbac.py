"""The role policy: every operation of the OpenAPI document, for each of the five roles."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends

from ikan_platform import policy
from ikan_platform.models import User
from ikan_platform.security import current_user
from tests.platform.conftest import ADMIN
from tests.platform.harness import Api

ROOT = Path(__file__).resolve().parents[2]


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(operation id, method, path) for every operation the app serves."""
    return [
        (op["operationId"], method.upper(), path)
        for path, methods in openapi["paths"].items()
        for method, op in methods.items()
    ]


async def call(client: httpx.AsyncClient, method: str, path: str, token: str | None) -> Any:
    """Call an operation with placeholder ids, an empty body and no If-Match (so nothing writes)."""
    url = re.sub(r"\{[^}]+\}", "1", path)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, url, headers=headers, json=body)


def test_every_operation_is_in_the_policy_table(platform_app: Any) -> None:
    served = {op for op, _, _ in operations(platform_app.openapi())}
    missing = served - set(policy.POLICY) - policy.PUBLIC_OPERATIONS
    assert not missing, f"add these operations to ikan_platform/policy.py: {sorted(missing)}"
    assert not set(policy.POLICY) & policy.PUBLIC_OPERATIONS


@pytest.mark.parametrize("role", policy.ROLES)
async def test_each_role_is_allowed_exactly_what_the_policy_says(
    api: Api, platform_app: Any, role_emails: dict[str, str], role: str
) -> None:
    token = await api.token(role_emails[role])
    wrong = []
    for op, method, path in operations(platform_app.openapi()):
        if op in policy.PUBLIC_OPERATIONS:
            continue
        response = await call(api.oracle, method, path, token)
        allowed = role in policy.POLICY[op]
        refused = response.status_code == 403 and response.json()["code"] == "forbidden"
        if allowed == refused:
            wrong.append(f"{op} ({method} {path}): {response.status_code} {response.text[:120]}")
    assert not wrong, f"{role}: " + "\n".join(wrong)


async def test_every_protected_operation_needs_a_session(api: Api, platform_app: Any) -> None:
    open_doors = []
    for op, method, path in operations(platform_app.openapi()):
        if op in policy.PUBLIC_OPERATIONS:
            continue
        response = await call(api.oracle, method, path, None)
        if response.status_code != 401 or response.json()["code"] != "unauthenticated":
            open_doors.append(f"{op}: {response.status_code}")
    assert not open_doors


def unlisted(user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
    """A route someone forgot to add to the policy table."""
    return {"reached": "yes"}


async def test_an_operation_missing_from_the_table_is_refused_even_to_admins(
    api: Api, platform_app: Any
) -> None:
    platform_app.add_api_route("/v1/unlisted", unlisted, operation_id="unlisted_operation")

    response = await api.get("/v1/unlisted", ADMIN)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_rbac_doc_is_current(platform_app: Any) -> None:
    expected = policy.render_markdown(platform_app.openapi())
    current = (ROOT / "docs" / "rbac.md").read_text(encoding="utf-8")
    assert current == expected, "run: python -m ikan_platform.policy > docs/rbac.md"


def _signed(platform_app: Any, **claims: Any) -> str:
    """An access token signed with the platform's own key, with these claims."""
    import jwt

    from ikan_platform.security import AUDIENCE, ISSUER

    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "iat": 1, "exp": 4_102_444_800}
    body = {k: v for k, v in {**base, **claims}.items() if v is not ...}
    return jwt.encode(body, platform_app.state.secret, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": ...},
        {"sub": "admin"},
        {"sub": "1.0"},
        {"sub": "-1"},
        {"sub": "99999999999999999999"},
        {"sub": "\u0661"},  # Arabic-Indic digit one: isdigit() says yes, the id column no
        {"exp": ...},
        {"exp": "tomorrow"},
        {"exp": True},
        {"exp": [4_102_444_800]},
    ],
    ids=str,
)
async def test_a_token_signed_with_our_key_but_with_bad_claims_is_a_401(
    api: Api, platform_app: Any, claims: dict[str, Any]
) -> None:
    token = _signed(platform_app, **claims)

    response = await api.oracle.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"


async def test_a_well_formed_token_signed_with_our_key_is_accepted(
    api: Api, platform_app: Any
) -> None:
    response = await api.oracle.get(
        "/v1/me", headers={"Authorization": f"Bearer {_signed(platform_app)}"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == 1
