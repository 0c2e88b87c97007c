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
