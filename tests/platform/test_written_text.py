"""Reasons, notes, names and supplier references: never blank, stored without surrounding spaces.

Every write the harness sends is checked: a refused one leaves no audit event and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.platform.conftest import ADMIN, OPS, OPS_2
from tests.platform.harness import Api
from tests.platform.test_deletion_workflow import RECEIVED, step
from tests.platform.test_users import new_user, user_by_email

BLANKS = ["   ", "\t\n ", " a "]


async def open_booking(api: Api) -> dict[str, Any]:
    """A booking awaiting its supplier (every booking action is possible on it)."""
    page = await api.get("/v1/bookings", OPS, params={"queue": "awaiting_supplier", "limit": 1})
    return page.json()["items"][0]


async def booking_write(api: Api, path: str, field: str, value: str) -> Any:
    """POST a booking action or a note with `value` in `field`."""
    booking = await open_booking(api)
    if path == "notes":
        return await api.post(f"/v1/bookings/{booking['id']}/notes", OPS, json={field: value})
    return await api.act(booking["id"], path, OPS, json={field: value})


def assert_refused_as_blank(response: Any, field: str) -> None:
    """422 naming the field and saying what is wrong with it."""
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["loc"][-1] == field
    assert problem["detail"] in (
        f"body.{field}: is blank: spaces alone say nothing",
        f"body.{field}: needs at least 3 characters besides spaces",
    ), problem["detail"]


@pytest.mark.parametrize("value", BLANKS)
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("cancel", "reason"),
        ("hold", "reason"),
        ("escalate", "reason"),
        ("decline", "reason"),
        ("confirm", "supplier_reference"),
        ("notes", "body"),
    ],
)
async def test_a_blank_booking_reason_reference_or_note_is_refused(
    api: Api, path: str, field: str, value: str
) -> None:
    if value == " a " and field != "reason":
        value = "   "  # one character is enough for a reference or a note
    response = await booking_write(api, path, field, value)

    assert_refused_as_blank(response, field)


@pytest.mark.parametrize("value", BLANKS)
async def test_a_blank_undo_reason_is_refused(api: Api, value: str) -> None:
    booking = await open_booking(api)
    cancelled = await api.act(booking["id"], "cancel", OPS, json={"reason": "Client postponed"})
    assert cancelled.status_code == 200
    (event,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)

    response = await api.post(f"/v1/audit-events/{event['id']}/undo", OPS, json={"reason": value})

    assert_refused_as_blank(response, "reason")
    assert (await api.booking(booking["id"]))["status"] == "cancelled"


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reject", {"reason": "   "}, "reason"),
        ("extend", {"reason": "\t \n", "days": 10}, "reason"),
        ("mark-ready", {"method": "other", "note": "    "}, "note"),
    ],
)
async def test_blank_deletion_request_reasons_and_notes_are_refused(
    api: Api, action: str, body: dict[str, Any], field: str
) -> None:
    if action == "mark-ready":
        assert (await step(api, RECEIVED, "verify")).status_code == 200

    response = await step(api, RECEIVED, action, json=body)

    assert_refused_as_blank(response, field)


async def test_blank_intake_fields_and_user_names_are_refused(api: Api) -> None:
    intake = {"subject_name": "Marta Kowalska", "subject_email": "m@example.org"}
    blank_note = await api.post(
        "/v1/deletion-requests", OPS, json={**intake, "channel": "email", "note": "   "}
    )
    assert_refused_as_blank(blank_note, "note")
    blank_name = await api.post("/v1/users", ADMIN, json=new_user(name="  "))
    assert_refused_as_blank(blank_name, "name")
    tom = await user_by_email(api, OPS_2)
    role = await api.post(
        f"/v1/users/{tom['id']}/role",
        ADMIN,
        json={"role": "admin", "reason": "   "},
        if_match=tom["version"],
    )
    assert_refused_as_blank(role, "reason")


async def test_reasons_and_references_are_stored_without_surrounding_spaces(api: Api) -> None:
    booking = await open_booking(api)
    held = await api.act(booking["id"], "hold", OPS, json={"reason": "  Visa pending \n"})
    assert held.json()["status_reason"] == "On hold: Visa pending"
    (hold,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    assert hold["reason"] == "Visa pending"
    resumed = await api.act(booking["id"], "resume", OPS)
    assert resumed.status_code == 200
    confirmed = await api.act(
        booking["id"], "confirm", OPS, json={"supplier_reference": "  CH-778812 "}
    )
    assert confirmed.json()["supplier_reference"] == "CH-778812"
    note = await api.post(
        f"/v1/bookings/{booking['id']}/notes", OPS, json={"body": " Ground floor "}
    )
    assert note.json()["body"] == "Ground floor"
    undone = await api.post(
        f"/v1/audit-events/{hold['id']}/undo", OPS, json={"reason": "  Wrong booking  "}
    )
    assert undone.status_code == 409  # resumed and confirmed since; the reason was still read
    (confirm,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    redo = await api.post(
        f"/v1/audit-events/{confirm['id']}/undo", OPS, json={"reason": "  Wrong booking  "}
    )
    assert redo.json()["undo_event"]["reason"] == "Wrong booking"
