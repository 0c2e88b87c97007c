"""The OpenAPI document: committed copy is current, and the app keeps every promise it makes.

schemathesis generates requests for every operation from the document itself and sends them to
the real app (in-process, signed in as an admin), checking that no response is a server error
and that every response matches the schema the document declares for its status. It is bounded
by the number of examples per operation (IKAN_SCHEMATHESIS_EXAMPLES, default 40: about a minute
and a half on the project's 2-core machine).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ikan_platform import openapi_doc
from tests.platform.conftest import ADMIN

EXAMPLES = int(os.environ.get("IKAN_SCHEMATHESIS_EXAMPLES", "40"))


def test_committed_openapi_document_is_current(platform_app: Any) -> None:
    committed = openapi_doc.DEFAULT_PATH.read_text(encoding="utf-8")
    assert committed == openapi_doc.render(platform_app.openapi()), (
        "docs/openapi.json is stale: run python -m ikan_platform.openapi_doc"
    )


def test_openapi_check_mode_detects_drift(tmp_path: Any) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert openapi_doc.main(["--check", str(stale)]) == 1
    assert openapi_doc.main([str(stale)]) == 0
    assert openapi_doc.main(["--check", str(stale)]) == 0


@pytest.fixture
def admin_headers(platform_app: Any) -> dict[str, str]:
    """A sandbox admin's bearer token, obtained through the real sign-in route."""

    async def sign_in() -> httpx.Response:
        transport = httpx.ASGITransport(app=platform_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://platform") as client:
            body = {"provider": "sandbox", "id_token": ADMIN}
            return await client.post("/v1/auth/exchange", json=body)

    response = asyncio.run(sign_in())
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def api_schema(platform_app: Any) -> Any:
    """The app's own OpenAPI document, loaded by schemathesis against the app."""
    return schemathesis.openapi.from_asgi("/openapi.json", platform_app)


schema = schemathesis.pytest.from_fixture("api_schema")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_response_is_documented_and_no_request_breaks_the_server(
    case: Any, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=admin_headers, checks=CHECKS)
