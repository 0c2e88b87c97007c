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
    OutcomeUnknown,
    PlatformUnreachable,
    SessionExpired,
    StaleVersion,
    UndoExpired,
)
from tests.slow_platform import ANSWER_WITHIN, LATE, SlowLink, served

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


UNKNOWN = (
    "The platform did not answer; the change may or may not have been made. "
    "Press r to see the current state; trying again is safe."
)


async def claim_events(client: PlatformClient, booking_id: int) -> int:
    events = await client.audit_events(entity_type="booking", entity_id=str(booking_id))
    return [e.action for e in events.items].count("booking.claim")


async def test_a_write_answered_too_late_may_have_been_made_and_sending_it_again_is_safe(
    platform_app, client_for
):
    """A stalled platform: the claim lands but its answer comes after the client gave up."""
    priya = await client_for(OPS)
    booking = await first_new_booking(priya)
    link = SlowLink(platform_app)
    with served(link) as url:
        slow = PlatformClient(url, timeout=ANSWER_WITHIN)
        slow.auth.set_tokens(priya.auth.tokens)
        link.delay = LATE
        with pytest.raises(OutcomeUnknown) as lost:
            await slow.booking_action(booking, "claim")
        assert str(lost.value) == UNKNOWN
        assert (await priya.booking(booking.id)).assignee.email == OPS  # it was made
        link.delay = 0
        claimed = await slow.booking_action(booking, "claim")  # the same write, pressed again
        await slow.aclose()
    assert claimed.assignee.email == OPS and claimed.version == booking.version + 1
    assert await claim_events(priya, booking.id) == 1


async def test_the_kept_key_goes_with_the_same_write_until_the_platform_answers(
    platform_app, client_for
):
    priya = await client_for(OPS)
    booking = await first_new_booking(priya)
    real = httpx.ASGITransport(app=platform_app)
    keys: list[str] = []
    link = {"state": "loses answers"}

    class Link(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                keys.append(request.headers["idempotency-key"])
            if link["state"] == "down":
                raise httpx.ConnectError("connection refused")
            response = await real.handle_async_request(request)
            if link["state"] == "loses answers" and request.method == "POST":
                raise httpx.ReadError("connection reset after the write")
            return response

    client = PlatformClient("http://platform", transport=Link())
    client.auth.set_tokens(priya.auth.tokens)
    with pytest.raises(OutcomeUnknown):
        await client.booking_action(booking, "claim")
    link["state"] = "down"  # this try never leaves, but the first one may have landed
    with pytest.raises(OutcomeUnknown):
        await client.booking_action(booking, "claim")
    link["state"] = "up"
    claimed = await client.booking_action(booking, "claim")
    assert len(set(keys)) == 1 and claimed.assignee.email == OPS
    await priya.booking_action(claimed, "release")
    with pytest.raises(StaleVersion):  # answered once: the same write again is a new one
        await client.booking_action(booking, "claim")
    await client.aclose()
    assert len(set(keys)) == 2 and keys[-1] != keys[0]
    assert await claim_events(priya, booking.id) == 1


async def test_a_write_that_could_not_connect_was_not_made(client_for):
    priya = await client_for(OPS)
    booking = await first_new_booking(priya)
    offline = PlatformClient("http://127.0.0.1:9", timeout=2)
    offline.auth.set_tokens(priya.auth.tokens)
    with pytest.raises(PlatformUnreachable) as failed:
        await offline.booking_action(booking, "claim")
    await offline.aclose()
    assert not isinstance(failed.value, OutcomeUnknown)
    assert str(failed.value).startswith("Cannot reach the platform") and "Nothing changed." in str(
        failed.value
    )
    assert (await priya.booking(booking.id)).assignee is None


async def test_a_gateway_timeout_on_a_write_is_an_unknown_outcome(platform_app, client_for):
    """A proxy's 504 says nothing of what the platform behind it did (here: it claimed)."""
    priya = await client_for(OPS)
    booking = await first_new_booking(priya)
    real = httpx.ASGITransport(app=platform_app)

    class Gateway(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await real.handle_async_request(request)
            if request.method == "POST":
                return httpx.Response(504, text="<html>Gateway Timeout</html>")
            return response

    client = PlatformClient("http://platform", transport=Gateway())
    client.auth.set_tokens(priya.auth.tokens)
    with pytest.raises(OutcomeUnknown):
        await client.booking_action(booking, "claim")
    await client.aclose()
    assert (await priya.booking(booking.id)).assignee.email == OPS


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
