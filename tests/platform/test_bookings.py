"""Bookings: queues with counts, search, what each role sees, and every action's effect."""

from __future__ import annotations

from typing import Any

import pytest

from tests.platform.conftest import ADMIN, OPS, OPS_2, RMC, SUPPLIER
from tests.platform.harness import Api


async def search(api: Api, q: str, as_: str = OPS, **params: Any) -> list[dict[str, Any]]:
    """All bookings a search finds."""
    response = await api.get("/v1/bookings", as_, params={"q": q, "limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def first(api: Api, queue: str) -> dict[str, Any]:
    """The first booking of a queue."""
    response = await api.get("/v1/bookings", OPS, params={"queue": queue, "limit": 1})
    return response.json()["items"][0]


async def test_queues_come_with_counts_and_sla_breaches(api: Api) -> None:
    queues = (await api.get("/v1/queues", OPS)).json()
    assert [q["id"] for q in queues] == [
        "new",
        "awaiting_supplier",
        "needs_attention",
        "checkins_today",
        "on_hold",
    ]
    for queue in queues:
        page = (await api.get("/v1/bookings", OPS, params={"queue": queue["id"]})).json()
        assert page["total"] == queue["count"] > 0
        assert 0 <= queue["sla_breached"] <= queue["count"]
    assert sum(q["sla_breached"] for q in queues) > 0


async def test_search_by_reference_and_by_id(api: Api) -> None:
    booking = await first(api, "new")
    assert [b["id"] for b in await search(api, booking["reference"].lower())] == [booking["id"]]
    assert booking["id"] in [b["id"] for b in await search(api, str(booking["id"]))]


async def test_search_by_traveller_name(api: Api) -> None:
    booking = await first(api, "awaiting_supplier")
    surname = booking["traveller_name"].split()[-1]
    found = await search(api, surname.upper())
    assert booking["id"] in [b["id"] for b in found]
    assert all(surname.lower() in b["traveller_name"].lower() for b in found)


async def test_search_by_city(api: Api) -> None:
    found = await search(api, "amsterdam")
    assert found
    assert all("Amsterdam" in (b["home_city"], b["destination_city"]) for b in found)


async def test_search_by_supplier(api: Api) -> None:
    found = await search(api, "meridian")
    assert found
    assert {b["supplier"]["name"] for b in found} == {"Meridian Hotels"}


async def test_search_treats_wildcards_as_text(api: Api) -> None:
    assert await search(api, "%") == []
    assert await search(api, "_") == []
    assert await search(api, "\\") == []  # a dangling escape on PostgreSQL, unless escaped
    assert await search(api, "a%m") == []  # would match "Amsterdam" as a wildcard


async def test_search_combines_with_a_queue(api: Api) -> None:
    found = await search(api, "meridian", queue="on_hold")
    assert all(b["status"] == "on_hold" for b in found)


async def test_a_relocation_manager_sees_only_their_clients_bookings(api: Api) -> None:
    page = (await api.get("/v1/bookings", RMC, params={"limit": 200})).json()
    assert page["total"] > 0
    assert {b["client"]["name"] for b in page["items"]} == {"Northwind Pharma"}
    everyone = (await api.get("/v1/bookings", OPS, params={"limit": 50})).json()["items"]
    other = next(b for b in everyone if b["client"]["name"] != "Northwind Pharma")
    assert (await api.get(f"/v1/bookings/{other['id']}", RMC)).status_code == 404


async def test_a_supplier_sees_only_bookings_sent_to_it(api: Api) -> None:
    items = (await api.get("/v1/bookings", SUPPLIER, params={"limit": 200})).json()["items"]
    assert items
    assert {b["supplier"]["name"] for b in items} == {"Cityhome Serviced Apartments"}
    assert "new" not in {b["status"] for b in items}
    assert all(b["sent_to_supplier_at"] for b in items)


CITYHOME = "Cityhome Serviced Apartments"


async def unsent_bookings_of_the_supplier(api: Api, count: int) -> list[dict[str, Any]]:
    """New, unescalated bookings of the signed-in supplier's company, as Ops sees them."""
    page = await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": 200})
    found = [
        b for b in page.json()["items"] if b["supplier"]["name"] == CITYHOME and not b["escalated"]
    ]
    assert len(found) >= count
    return found[:count]


async def supplier_sees(api: Api, booking_id: int) -> bool:
    """Whether the supplier can read the booking, and finds it in their list."""
    one = await api.get(f"/v1/bookings/{booking_id}", SUPPLIER)
    listed = (await api.get("/v1/bookings", SUPPLIER, params={"limit": 200})).json()["items"]
    assert (one.status_code == 200) == (booking_id in [b["id"] for b in listed])
    return one.status_code == 200


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("hold", {"reason": "Waiting for client HR"}),
        ("escalate", {"reason": "VIP traveller, internal"}),
        ("cancel", {"reason": "Assignment called off"}),
    ],
)
async def test_a_supplier_never_sees_a_booking_ops_touched_before_sending_it(
    api: Api, action: str, body: dict[str, str]
) -> None:
    (booking,) = await unsent_bookings_of_the_supplier(api, 1)

    touched = await api.act(booking["id"], action, OPS, json=body)

    assert touched.status_code == 200, touched.text
    assert touched.json()["sent_to_supplier_at"] is None
    assert not await supplier_sees(api, booking["id"])
    answer = await api.act(booking["id"], "confirm", SUPPLIER, json={"supplier_reference": "C-1"})
    assert answer.status_code == 404
    assert (await api.booking(booking["id"]))["status"] != "confirmed"


async def test_a_booking_becomes_the_suppliers_when_sent_and_stays_theirs(
    api: Api, clock: Any
) -> None:
    (booking,) = await unsent_bookings_of_the_supplier(api, 1)
    escalated = await api.act(booking["id"], "escalate", OPS, json={"reason": "VIP traveller"})
    assert escalated.status_code == 200 and not await supplier_sees(api, booking["id"])

    sent = await api.act(booking["id"], "send-to-supplier", OPS)

    assert sent.status_code == 200, sent.text
    assert sent.json()["sent_to_supplier_at"] == "2026-12-01T09:30:00Z"
    assert await supplier_sees(api, booking["id"])
    clock.advance(minutes=5)
    held = await api.act(booking["id"], "hold", OPS, json={"reason": "Visa pending"})
    assert held.json()["sent_to_supplier_at"] == "2026-12-01T09:30:00Z"  # kept afterwards
    assert await supplier_sees(api, booking["id"])
    resumed = await api.act(booking["id"], "resume", OPS)
    assert resumed.json()["status"] == "awaiting_supplier"
    confirmed = await api.act(
        booking["id"], "confirm", SUPPLIER, json={"supplier_reference": "CH-1"}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["sent_to_supplier_at"] == "2026-12-01T09:30:00Z"


async def test_undoing_the_send_takes_the_booking_away_from_the_supplier(api: Api) -> None:
    (booking,) = await unsent_bookings_of_the_supplier(api, 1)
    assert (await api.act(booking["id"], "send-to-supplier", OPS)).status_code == 200
    (send,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    assert send["action"] == "booking.send_to_supplier"
    assert send["changed_fields"] == ["sent_to_supplier_at", "status"]

    undone = await api.post(
        f"/v1/audit-events/{send['id']}/undo", OPS, json={"reason": "Wrong supplier"}
    )

    assert undone.status_code == 200, undone.text
    assert undone.json()["undo_event"]["after"]["sent_to_supplier_at"] is None
    assert not await supplier_sees(api, booking["id"])


async def test_ops_confirming_an_unsent_booking_makes_it_the_suppliers(api: Api) -> None:
    (booking,) = await unsent_bookings_of_the_supplier(api, 1)

    confirmed = await api.act(booking["id"], "confirm", OPS, json={"supplier_reference": "PH-7"})

    assert confirmed.json()["sent_to_supplier_at"] == "2026-12-01T09:30:00Z"
    assert await supplier_sees(api, booking["id"])


async def test_resuming_a_booking_held_before_it_was_sent_puts_it_back_to_new(api: Api) -> None:
    (booking,) = await unsent_bookings_of_the_supplier(api, 1)
    assert (await api.act(booking["id"], "hold", OPS, json={"reason": "Ask HR"})).status_code == 200

    resumed = await api.act(booking["id"], "resume", OPS)

    assert resumed.json()["status"] == "new"
    assert not await supplier_sees(api, booking["id"])


async def test_every_seeded_booking_the_supplier_sees_was_sent_to_it(api: Api) -> None:
    theirs = (await api.get("/v1/bookings", SUPPLIER, params={"limit": 200})).json()["items"]
    assert theirs
    for booking in theirs:
        history = await api.events(entity_type="booking", entity_id=str(booking["id"]))
        sends = [
            e for e in history if e["action"] in ("booking.send_to_supplier", "booking.confirm")
        ]
        assert sends, f"{booking['reference']} is visible but was never sent"
        assert sends[-1]["after"]["sent_to_supplier_at"] == booking["sent_to_supplier_at"]
    everyone = (await api.get("/v1/bookings", OPS, params={"limit": 200, "q": "cityhome"})).json()
    unsent = [b for b in everyone["items"] if b["sent_to_supplier_at"] is None]
    assert {b["status"] for b in unsent} - {"new", "on_hold", "cancelled"} == set()
    assert any(b["status"] != "new" for b in unsent)  # held or cancelled before sending


async def test_a_traveler_sees_only_their_own_bookings(api: Api, traveler: str) -> None:
    items = (await api.get("/v1/bookings", traveler)).json()["items"]
    assert items and {b["traveller_email"] for b in items} == {traveler}


async def test_a_supplier_confirms_a_booking_awaiting_it(api: Api) -> None:
    waiting = (
        await api.get("/v1/bookings", SUPPLIER, params={"queue": "awaiting_supplier", "limit": 1})
    ).json()["items"][0]

    response = await api.act(
        waiting["id"], "confirm", SUPPLIER, json={"supplier_reference": "CH-778812"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    assert response.json()["supplier_reference"] == "CH-778812"


async def test_a_supplier_cannot_answer_another_suppliers_booking(api: Api) -> None:
    theirs = next(
        b
        for b in (
            await api.get("/v1/bookings", OPS, params={"queue": "awaiting_supplier", "limit": 50})
        ).json()["items"]
        if b["supplier"]["name"] != "Cityhome Serviced Apartments"
    )
    response = await api.act(theirs["id"], "decline", SUPPLIER, json={"reason": "Full"})
    assert response.status_code == 404


async def test_claim_release_and_assign(api: Api) -> None:
    booking = await first(api, "new")
    claimed = await api.act(booking["id"], "claim", OPS)
    assert claimed.json()["assignee"]["email"] == OPS
    taken = await api.act(booking["id"], "claim", OPS_2)
    assert taken.status_code == 409 and taken.json()["code"] == "already_claimed"
    not_theirs = await api.act(booking["id"], "release", OPS_2)
    assert not_theirs.status_code == 409 and not_theirs.json()["code"] == "not_yours"
    assert (await api.act(booking["id"], "release", OPS)).json()["assignee"] is None

    team = (await api.get("/v1/assignable-users", OPS)).json()["items"]
    tom = next(u for u in team if u["email"] == OPS_2)
    assigned = await api.act(booking["id"], "assign", ADMIN, json={"assignee_id": tom["id"]})
    assert assigned.json()["assignee"]["email"] == OPS_2
    supplier_id = (await api.get("/v1/me", SUPPLIER)).json()["id"]
    wrong = await api.act(booking["id"], "assign", OPS, json={"assignee_id": supplier_id})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_assignee"


async def test_the_supplier_round_trip(api: Api) -> None:
    booking = await first(api, "new")
    sent = await api.act(booking["id"], "send-to-supplier", OPS)
    assert sent.json()["status"] == "awaiting_supplier"
    declined = await api.act(booking["id"], "decline", OPS, json={"reason": "No availability"})
    assert declined.json()["status"] == "needs_attention"
    assert declined.json()["status_reason"] == "Supplier declined: No availability"
    confirmed = await api.act(booking["id"], "confirm", OPS, json={"supplier_reference": "X-1"})
    assert confirmed.json()["status"] == "confirmed"


async def test_escalate_hold_resume_and_cancel(api: Api) -> None:
    booking = await first(api, "awaiting_supplier")
    escalated = await api.act(booking["id"], "escalate", OPS, json={"reason": "VIP traveller"})
    assert escalated.json()["escalated"] is True
    assert escalated.json()["status"] == "needs_attention"
    again = await api.act(booking["id"], "escalate", OPS, json={"reason": "Still VIP"})
    assert again.status_code == 409 and again.json()["code"] == "already_escalated"
    held = await api.act(booking["id"], "hold", OPS, json={"reason": "Visa"})
    assert held.json()["status"] == "on_hold"
    resumed = await api.act(booking["id"], "resume", OPS)
    assert resumed.json()["status"] == "awaiting_supplier"
    cancelled = await api.act(booking["id"], "cancel", OPS, json={"reason": "Postponed"})
    assert cancelled.json()["status"] == "cancelled"
    refused = await api.act(booking["id"], "hold", OPS, json={"reason": "Too late"})
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_state"


async def test_notes_are_added_and_listed_newest_first(api: Api) -> None:
    booking = await first(api, "new")
    for body in ("Called the traveller", "Supplier asked for passport copy"):
        response = await api.post(f"/v1/bookings/{booking['id']}/notes", OPS, json={"body": body})
        assert response.status_code == 201
    notes = (await api.get(f"/v1/bookings/{booking['id']}/notes", OPS_2)).json()["items"]
    assert [n["body"] for n in notes] == [
        "Supplier asked for passport copy",
        "Called the traveller",
    ]
    assert notes[0]["author"]["email"] == OPS


@pytest.mark.parametrize("queue", ["nowhere", "NEW"])
async def test_an_unknown_queue_is_a_400(api: Api, queue: str) -> None:
    response = await api.get("/v1/bookings", OPS, params={"queue": queue})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_queue"


async def test_a_cancelled_booking_cannot_be_unclaimed(api: Api) -> None:
    """Who held a booking when it was cancelled stays on it; undo the cancel to work it again."""
    page = await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": 1})
    booking = page.json()["items"][0]
    assert (await api.act(booking["id"], "claim", OPS)).status_code == 200
    cancel = await api.act(booking["id"], "cancel", OPS, json={"reason": "Client postponed"})
    assert cancel.status_code == 200

    response = await api.act(booking["id"], "release", OPS)

    assert response.status_code == 409 and response.json()["code"] == "invalid_state"
    assert (await api.booking(booking["id"]))["assignee"]["email"] == OPS


async def test_assigning_a_booking_to_its_assignee_changes_nothing(api: Api) -> None:
    booking = await first(api, "new")
    assert (await api.act(booking["id"], "claim", OPS)).status_code == 200
    me = (await api.get("/v1/me", OPS)).json()

    response = await api.act(booking["id"], "assign", ADMIN, json={"assignee_id": me["id"]})

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "no_change"
    assert response.json()["detail"] == f"{booking['reference']} is already assigned to Priya Nair."
