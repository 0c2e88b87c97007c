"""PlatformClient against the real platform app: typed results, typed refusals, no Textual."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import (
    Conflict,
    MalformedResponse,
    NotAllowed,
    PlatformUnreachable,
    SessionExpired,
    StaleVersion,
    UndoExpired,
)

OPS = "priya.nair@ikan.example"
OPS_2 = "tom.becker@ikan.example"
SUPPLIER = "reservations@cityhome.example"


async def first_new_booking(client: PlatformClient):  # type: ignore[no-untyped-def]
    page = await client.bookings(queue="new", limit=5)
    return next(b for b in page.items if b.assignee is None)


async def test_two_operators_never_overwrite_each_other(client_for):
    priya, tom = await client_for(OPS), await client_for(OPS_2)
    seen_by_both = await first_new_booking(priya)
    await priya.booking_action(seen_by_both, "claim")
    with pytest.raises(StaleVersion) as refused:
        await tom.booking_action(seen_by_both, "cancel", {"reason": "duplicate request"})
    assert refused.value.current["assignee"]["email"] == OPS
    assert (await tom.booking(seen_by_both.id)).status == "new"


async def test_claiming_a_booking_a_teammate_holds_is_a_conflict(client_for):
    priya, tom = await client_for(OPS), await client_for(OPS_2)
    booking = await first_new_booking(priya)
    await priya.booking_action(booking, "claim")
    fresh = await tom.booking(booking.id)
    with pytest.raises(Conflict) as refused:
        await tom.booking_action(fresh, "claim")
    assert "teammate" in refused.value.message


async def test_undo_after_the_window_is_undo_expired(client_for, clock):
    priya = await client_for(OPS)
    booking = await first_new_booking(priya)
    cancelled = await priya.booking_action(booking, "cancel", {"reason": "client postponed"})
    event = (await priya.audit_events(entity_type="booking", entity_id=str(cancelled.id))).items[0]
    clock.advance(hours=24, minutes=1)
    await priya.exchange("sandbox", OPS)  # a day later: a new working session
    with pytest.raises(UndoExpired):
        await priya.undo(event.id, "too late")


async def test_supplier_is_not_allowed_to_undo(client_for):
    priya, supplier = await client_for(OPS), await client_for(SUPPLIER)
    event = (await priya.audit_events(action="booking.cancel", limit=1)).items[0]
    with pytest.raises(NotAllowed):
        await supplier.undo(event.id, "not mine to undo")


async def test_expired_access_token_is_refreshed_silently(client_for, clock):
    priya = await client_for(OPS)
    first_token = priya.auth.tokens.access_token
    clock.advance(minutes=20)  # past the 15-minute access token
    assert (await priya.me()).email == OPS
    assert priya.auth.tokens.access_token != first_token


async def test_refused_refresh_means_sign_in_again(client_for, clock):
    priya = await client_for(OPS)
    clock.advance(hours=9)  # past the refresh token's working day
    with pytest.raises(SessionExpired):
        await priya.queues()
    assert priya.user is None


async def test_unreachable_platform_says_so_plainly():
    client = PlatformClient("http://127.0.0.1:9", timeout=2)
    with pytest.raises(PlatformUnreachable) as failed:
        await client.sandbox_users()
    assert "Cannot reach the platform" in failed.value.message
    await client.aclose()


async def test_a_response_outside_the_contract_is_malformed():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"unexpected": True})

    client = PlatformClient("http://platform", transport=httpx.MockTransport(answer))
    with pytest.raises(MalformedResponse):
        await client.sandbox_users()
    await client.aclose()


async def test_a_lost_answer_is_retried_with_the_same_idempotency_key(platform_app, client_for):
    """The first attempt reaches the platform but its answer is lost; the retry must not
    write twice."""
    priya = await client_for(OPS)
    booking = await first_new_booking(priya)
    real = httpx.ASGITransport(app=platform_app)
    keys: list[str] = []

    class LosesFirstAnswer(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await real.handle_async_request(request)
            if request.method == "POST" and not keys:
                keys.append(request.headers["idempotency-key"])
                raise httpx.ReadError("connection reset after the write")
            keys.append(request.headers.get("idempotency-key", ""))
            return response

    flaky = PlatformClient("http://platform", transport=LosesFirstAnswer())
    flaky.auth.set_tokens(priya.auth.tokens)
    claimed = await flaky.booking_action(booking, "claim")
    await flaky.aclose()
    assert keys[0] == keys[1]
    assert claimed.assignee.email == OPS
    events = await priya.audit_events(entity_type="booking", entity_id=str(booking.id))
    assert [e.action for e in events.items].count("booking.claim") == 1


def test_api_layer_imports_without_textual():
    code = (
        "import sys, ikan_console.api.client, ikan_console.api.errors; "
        "assert 'textual' not in sys.modules, 'api/ imported Textual'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_open_deletion_requests_come_without_closed_ones_soonest_first(client_for):
    priya = await client_for(OPS)
    open_page = await priya.deletion_requests(open_only=True)
    closed_page = await priya.deletion_requests(open_only=False)
    assert open_page.items and closed_page.items
    assert {r.status for r in open_page.items} <= {"received", "verifying", "ready", "approved"}
    assert {r.status for r in closed_page.items} <= {"completed", "rejected"}
    dues = [r.due_at for r in open_page.items]
    assert dues == sorted(dues)


async def test_the_match_count_comes_with_the_first_page_only(client_for):
    priya = await client_for(OPS)
    first = await priya.bookings(queue="awaiting_supplier", limit=50)
    second = await priya.bookings(queue="awaiting_supplier", limit=50, cursor=first.next_cursor)
    assert first.total and first.total > 50
    assert second.total is None and second.items
