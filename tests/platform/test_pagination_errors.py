"""Keyset pagination (stable, bounded, opaque cursors) and problem+json errors with stable codes."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx
import pytest

from ikan_platform import errors
from ikan_platform.app import create_app
from ikan_platform.settings import PlatformSettings
from tests.platform.conftest import ADMIN, OPS
from tests.platform.harness import Api

ROOT = Path(__file__).resolve().parents[2]
# Where a stable code is passed: the argument index of these callables.
CODE_ARGUMENT = {"Problem": 1, "IdentityError": 0}


async def walk(api: Api, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a list, page by page."""
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(path, OPS, params=query)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_pages_cover_a_queue_once_in_a_stable_order(api: Api) -> None:
    first = (await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": 1})).json()

    items = await walk(api, "/v1/bookings", {"queue": "new", "limit": 7})

    assert len(items) == first["total"] > 7
    assert len({b["id"] for b in items}) == len(items)
    keys = [(b["sla_due_at"], b["id"]) for b in items]
    assert keys == sorted(keys)


async def test_audit_pages_run_newest_first_without_gaps(api: Api) -> None:
    items = await walk(api, "/v1/audit-events", {"entity_type": "deletion_request", "limit": 5})
    ids = [e["id"] for e in items]
    assert len(ids) > 10 and ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


async def cursor_of(api: Api, path: str, params: dict[str, Any]) -> str:
    """The next-page cursor of a first page."""
    return (await api.get(path, OPS, params={**params, "limit": 2})).json()["next_cursor"]


async def test_a_tampered_cursor_is_a_400(api: Api) -> None:
    cursor = await cursor_of(api, "/v1/bookings", {"queue": "new"})
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]

    for bad in (flipped, "garbage", cursor[:10], "!!!!", ""):
        response = await api.get("/v1/bookings", OPS, params={"queue": "new", "cursor": bad})
        if bad == "":
            assert response.status_code == 200  # no cursor: the first page
            continue
        assert response.status_code == 400, bad
        assert response.json()["code"] == "invalid_cursor"


async def test_a_cursor_from_another_list_is_a_400(api: Api) -> None:
    from_new = await cursor_of(api, "/v1/bookings", {"queue": "new"})
    from_audit = await cursor_of(api, "/v1/audit-events", {})

    other_queue = await api.get(
        "/v1/bookings", OPS, params={"queue": "on_hold", "cursor": from_new}
    )
    other_list = await api.get("/v1/audit-events", OPS, params={"cursor": from_new})
    back = await api.get("/v1/bookings", OPS, params={"cursor": from_audit})

    for response in (other_queue, other_list, back):
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_cursor"


async def test_a_cursor_from_another_platform_is_a_400(api: Api, database_url: str) -> None:
    other = create_app(PlatformSettings(database_url=database_url, token_secret="another-" * 5))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://other"
    ) as client:
        assert other.state.secret != api.app.state.secret
        from ikan_platform.pagination import encode_cursor

        foreign = encode_cursor(other.state.secret, "bookings:new:None", ["2026-12-01", 1])
        response = await api.get("/v1/bookings", OPS, params={"queue": "new", "cursor": foreign})
        assert (await client.get("/healthz")).status_code == 200
    other.state.engine.dispose()
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("path", ["/v1/bookings", "/v1/audit-events", "/v1/users"])
async def test_limit_above_200_is_refused(api: Api, path: str) -> None:
    too_many = await api.get(path, ADMIN, params={"limit": 201})
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "validation_failed"
    assert too_many.headers["content-type"] == "application/problem+json"
    assert (await api.get(path, ADMIN, params={"limit": 200})).status_code == 200
    assert (await api.get(path, ADMIN, params={"limit": 0})).status_code == 422


async def test_framework_errors_are_problem_documents_too(api: Api) -> None:
    unknown = await api.get("/v1/nowhere", OPS)
    wrong_method = await api.client.delete("/v1/queues", headers=await api.headers(OPS))
    for response, code in ((unknown, "not_found"), (wrong_method, "method_not_allowed")):
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == code and body["status"] == response.status_code
        assert body["request_id"] == response.headers["x-request-id"]


def codes_in_source() -> dict[str, str]:
    """Every literal code passed to Problem/IdentityError (or to a helper that passes it on)."""
    trees = {p: ast.parse(p.read_text()) for p in (ROOT / "ikan_platform").rglob("*.py")}
    passers = dict(CODE_ARGUMENT)
    for tree in trees.values():  # helpers like `_refuse(code, detail)` that pass a code on
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            params = [a.arg for a in fn.args.args]
            for call in ast.walk(fn):
                arg = _code_arg(call, CODE_ARGUMENT)
                if isinstance(arg, ast.Name) and arg.id in params:
                    passers[fn.name] = params.index(arg.id)
    found = {}
    for path, tree in trees.items():
        for call in ast.walk(tree):
            arg = _code_arg(call, passers)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found[arg.value] = f"{path.relative_to(ROOT)}:{call.lineno}"
    return found


def _code_arg(node: ast.AST, passers: dict[str, int]) -> ast.expr | None:
    if not isinstance(node, ast.Call):
        return None
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    if name not in passers:
        return None
    for keyword in node.keywords:
        if keyword.arg == "code":
            return keyword.value
    index = passers[name]
    return node.args[index] if len(node.args) > index else None


def test_every_code_raised_in_the_source_is_documented() -> None:
    found = codes_in_source()
    assert {"invalid_cursor", "already_claimed", "id_token_expired"} <= set(found)
    undocumented = {code: where for code, where in found.items() if code not in errors.ERROR_CODES}
    assert not undocumented, f"add to ikan_platform/errors.py ERROR_CODES: {undocumented}"


def test_errors_doc_is_current() -> None:
    current = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert current == errors.render_markdown(), (
        "run: python -m ikan_platform.errors > docs/errors.md"
    )


async def test_a_nul_character_is_refused_not_stored(api: Api) -> None:
    in_query = await api.get("/v1/bookings", OPS, params={"q": "a\x00b"})
    booking = (await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": 1})).json()
    in_body = await api.act(booking["items"][0]["id"], "hold", OPS, json={"reason": "vi\x00sa"})

    assert in_query.status_code == 400 and in_query.json()["code"] == "bad_request"
    assert in_body.status_code == 422 and in_body.json()["code"] == "validation_failed"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_json_body_sent_as_another_media_type_is_a_415(
    api: Api, platform_app: Any, content_type: str
) -> None:
    """Every operation that takes a body says so, before the body is read as a shape error."""
    headers = {**(await api.headers(ADMIN)), "Content-Type": content_type, "If-Match": '"1"'}
    wrong = []
    for path, methods in platform_app.openapi()["paths"].items():
        for method, operation in methods.items():
            if "requestBody" not in operation:
                continue
            url = path.replace("{booking_id}", "1").replace("{user_id}", "2")
            url = url.replace("{request_id}", "1").replace("{event_id}", "1")
            response = await api.oracle.request(
                method, url, headers=headers, content=b'{"reason": "Client postponed"}'
            )
            problem = response.json()
            if response.status_code != 415 or problem.get("code") != "unsupported_media_type":
                wrong.append(f"{method.upper()} {path}: {response.status_code} {problem}")
            elif response.headers["content-type"] != "application/problem+json":
                wrong.append(f"{method.upper()} {path}: {response.headers['content-type']}")
    assert not wrong, "\n".join(wrong)


async def test_json_media_types_with_parameters_or_suffixes_are_json(api: Api) -> None:
    booking = (await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": 1})).json()
    path = f"/v1/bookings/{booking['items'][0]['id']}/notes"
    for content_type in ("application/json; charset=utf-8", "application/vnd.ikan+json"):
        response = await api.client.post(
            path,
            headers={**(await api.headers(OPS)), "Content-Type": content_type},
            content=b'{"body": "Called the traveller"}',
        )
        assert response.status_code == 201, (content_type, response.text)


async def test_an_unsigned_request_with_a_text_body_is_still_a_401(api: Api) -> None:
    response = await api.client.post(
        "/v1/bookings/1/cancel", headers={"Content-Type": "text/plain"}, content=b"cancel it"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
