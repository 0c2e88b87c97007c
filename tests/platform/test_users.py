"""Admin user management: provision, change role, deactivate, reactivate, all audited."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from ikan_platform.models import AuditEvent, Identity, User
from tests.platform.conftest import ADMIN, ADMIN_2, OPS, OPS_2
from tests.platform.harness import Api

ENTRA = {
    "provider": "entra",
    "issuer": "https://login.microsoftonline.com/7f3c1a8e-0000-4000-8000-00000000beef/v2.0",
    "subject": "00000000-0000-0000-0000-00000000a11c",
}


def new_user(**overrides: Any) -> dict[str, Any]:
    """A valid provisioning body for an Operations user."""
    body = {
        "email": "alice.moreau@ikan.example",
        "name": "Alice Moreau",
        "role": "operations",
        "identity": ENTRA,
    }
    return {**body, **overrides}


async def user_by_email(api: Api, email: str) -> dict[str, Any]:
    """A user as the admin list shows them."""
    response = await api.get("/v1/users", ADMIN, params={"q": email})
    (user,) = [u for u in response.json()["items"] if u["email"] == email]
    return user


async def test_admin_provisions_a_user_with_role_and_identity(api: Api) -> None:
    response = await api.post("/v1/users", ADMIN, json=new_user())

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/users/{created['id']}"
    shown = await api.get(f"/v1/users/{created['id']}", ADMIN)
    assert shown.headers["etag"] == '"1"'
    assert shown.json()["role"] == "operations"
    assert shown.json()["active"] is True
    assert shown.json()["identities"] == [ENTRA]
    (event,) = await api.events(entity_type="user", entity_id=str(created["id"]))
    assert event["action"] == "user.create"
    assert event["actor"]["email"] == ADMIN
    assert event["before"] is None
    assert event["after"]["identities"] == [ENTRA]


async def test_only_admins_manage_users(api: Api) -> None:
    refused = await api.post("/v1/users", OPS, json=new_user())
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert (await api.get("/v1/users", OPS)).status_code == 403


async def test_provisioning_refuses_a_taken_email_or_identity(api: Api) -> None:
    taken_email = await api.post("/v1/users", ADMIN, json=new_user(email="Priya.Nair@ikan.example"))
    assert taken_email.status_code == 409
    assert taken_email.json()["code"] == "email_taken"

    assert (await api.post("/v1/users", ADMIN, json=new_user())).status_code == 201
    taken_identity = await api.post("/v1/users", ADMIN, json=new_user(email="other@ikan.example"))
    assert taken_identity.status_code == 409
    assert taken_identity.json()["code"] == "identity_taken"


async def test_a_role_needs_its_own_link_and_no_other(api: Api) -> None:
    missing = await api.post("/v1/users", ADMIN, json=new_user(role="rmc"))
    assert missing.status_code == 422
    assert missing.json()["code"] == "invalid_user"
    wrong = await api.post("/v1/users", ADMIN, json=new_user(role="operations", supplier_id=1))
    assert wrong.json()["code"] == "invalid_user"
    unknown = await api.post("/v1/users", ADMIN, json=new_user(role="rmc", client_id=999))
    assert unknown.json()["code"] == "invalid_user"
    ok = await api.post("/v1/users", ADMIN, json=new_user(role="rmc", client_id=2))
    assert ok.status_code == 201 and ok.json()["client_id"] == 2


async def test_a_role_change_applies_to_the_users_next_request(api: Api) -> None:
    assert (await api.get("/v1/queues", OPS_2)).status_code == 200
    tom = await user_by_email(api, OPS_2)

    changed = await api.post(
        f"/v1/users/{tom['id']}/role",
        ADMIN,
        json={"role": "supplier", "supplier_id": 1, "reason": "Moved to Cityhome"},
        if_match=tom["version"],
    )

    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == f'"{tom["version"] + 1}"'
    # The same access token, issued while Tom was Operations:
    assert (await api.get("/v1/queues", OPS_2)).status_code == 403
    bookings = (await api.get("/v1/bookings", OPS_2, params={"limit": 200})).json()["items"]
    assert bookings and {b["supplier"]["id"] for b in bookings} == {1}
    (event,) = await api.events(entity_type="user", entity_id=str(tom["id"]), limit=1)
    assert (event["before"]["role"], event["after"]["role"]) == ("operations", "supplier")
    assert event["reason"] == "Moved to Cityhome"


async def test_a_role_change_needs_the_current_version(api: Api) -> None:
    tom = await user_by_email(api, OPS_2)
    body = {"role": "admin", "reason": "Promoted to team lead"}

    missing = await api.post(f"/v1/users/{tom['id']}/role", ADMIN, json=body)
    stale = await api.post(f"/v1/users/{tom['id']}/role", ADMIN, json=body, if_match=99)

    assert missing.status_code == 428
    assert missing.json()["code"] == "if_match_required"
    assert stale.status_code == 412
    assert stale.json()["current"]["role"] == "operations"
    assert stale.headers["etag"] == f'"{tom["version"]}"'


async def test_deactivation_stops_the_users_tokens_at_once(api: Api) -> None:
    session = (
        await api.oracle.post("/v1/auth/exchange", json={"provider": "sandbox", "id_token": OPS_2})
    ).json()
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    assert (await api.oracle.get("/v1/me", headers=bearer)).status_code == 200
    tom = await user_by_email(api, OPS_2)

    response = await api.post(
        f"/v1/users/{tom['id']}/deactivate",
        ADMIN,
        json={"reason": "Left the company"},
        if_match=tom["version"],
    )

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert (await api.oracle.get("/v1/me", headers=bearer)).status_code == 401
    refresh = await api.oracle.post(
        "/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refresh.status_code == 401
    sign_in = await api.oracle.post(
        "/v1/auth/exchange", json={"provider": "sandbox", "id_token": OPS_2}
    )
    assert sign_in.status_code == 403
    assert sign_in.json()["code"] == "user_deactivated"
    assignable = (await api.get("/v1/assignable-users", OPS)).json()["items"]
    assert OPS_2 not in [u["email"] for u in assignable]


async def test_reactivation_lets_the_user_sign_in_again(api: Api) -> None:
    tom = await user_by_email(api, OPS_2)
    off = await api.post(
        f"/v1/users/{tom['id']}/deactivate", ADMIN, json={"reason": "On leave"}, if_match=1
    )
    again = await api.post(f"/v1/users/{tom['id']}/deactivate", ADMIN, json={"reason": "x" * 3})
    assert again.status_code == 428

    on = await api.post(f"/v1/users/{tom['id']}/reactivate", ADMIN, if_match=off.json()["version"])

    assert on.status_code == 200, on.text
    assert on.json()["active"] is True
    sign_in = await api.oracle.post(
        "/v1/auth/exchange", json={"provider": "sandbox", "id_token": OPS_2}
    )
    assert sign_in.status_code == 200
    twice = await api.post(
        f"/v1/users/{tom['id']}/reactivate", ADMIN, if_match=on.json()["version"]
    )
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_state"


async def test_an_admin_cannot_lock_themselves_out(api: Api) -> None:
    me = await user_by_email(api, ADMIN)
    deactivate = await api.post(
        f"/v1/users/{me['id']}/deactivate", ADMIN, json={"reason": "test"}, if_match=me["version"]
    )
    demote = await api.post(
        f"/v1/users/{me['id']}/role",
        ADMIN,
        json={"role": "operations", "reason": "test"},
        if_match=me["version"],
    )

    assert deactivate.status_code == demote.status_code == 409
    assert deactivate.json()["code"] == "self_change_refused"
    assert (await api.get("/v1/me", ADMIN)).json()["role"] == "admin"


async def test_undoing_a_deactivation_restores_access(api: Api) -> None:
    tom = await user_by_email(api, OPS_2)
    await api.post(
        f"/v1/users/{tom['id']}/deactivate", ADMIN, json={"reason": "Wrong Tom"}, if_match=1
    )
    (event,) = await api.events(action="user.deactivate", entity_id=str(tom["id"]))

    undone = await api.post(
        f"/v1/audit-events/{event['id']}/undo", ADMIN_2, json={"reason": "Oops"}
    )

    assert undone.status_code == 200, undone.text
    assert (await api.get(f"/v1/users/{tom['id']}", ADMIN)).json()["active"] is True
    assert (await api.get("/v1/me", OPS_2)).status_code == 200


async def test_undoing_a_provisioning_removes_the_user_and_redoing_restores_the_same_id(
    api: Api,
) -> None:
    created = (await api.post("/v1/users", ADMIN, json=new_user())).json()
    (event,) = await api.events(entity_type="user", entity_id=str(created["id"]))

    removed = await api.post(f"/v1/audit-events/{event['id']}/undo", ADMIN, json={"reason": "Typo"})

    assert removed.status_code == 200, removed.text
    assert (await api.get(f"/v1/users/{created['id']}", ADMIN)).status_code == 404
    undo_event = removed.json()["undo_event"]
    restored = await api.post(
        f"/v1/audit-events/{undo_event['id']}/undo", ADMIN, json={"reason": "Was right"}
    )
    assert restored.status_code == 200, restored.text
    back = (await api.get(f"/v1/users/{created['id']}", ADMIN)).json()
    assert {k: back[k] for k in ("email", "role", "identities", "created_at")} == {
        k: created[k] for k in ("email", "role", "identities", "created_at")
    }


async def test_undoing_a_provisioning_is_refused_once_the_user_has_signed_in(api: Api) -> None:
    created = (await api.post("/v1/users", ADMIN, json=new_user())).json()
    (event,) = await api.events(entity_type="user", entity_id=str(created["id"]))
    await api.token(created["email"])  # a session now refers to the user

    response = await api.post(
        f"/v1/audit-events/{event['id']}/undo", ADMIN, json={"reason": "Not needed"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "entity_in_use"
    assert (await api.get(f"/v1/users/{created['id']}", ADMIN)).status_code == 200


async def test_user_list_filters_and_pages(api: Api) -> None:
    ops = (await api.get("/v1/users", ADMIN, params={"role": "operations"})).json()["items"]
    assert len(ops) == 4 and {u["role"] for u in ops} == {"operations"}
    found = (await api.get("/v1/users", ADMIN, params={"q": "sofia"})).json()["items"]
    assert [u["email"] for u in found] == [ADMIN]

    first = (await api.get("/v1/users", ADMIN, params={"limit": 5})).json()
    second = (
        await api.get("/v1/users", ADMIN, params={"limit": 5, "cursor": first["next_cursor"]})
    ).json()
    ids = [u["id"] for u in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 10
    inactive = (await api.get("/v1/users", ADMIN, params={"active": False})).json()["items"]
    assert inactive == []


async def test_operations_read_user_events_without_identity_subjects(api: Api) -> None:
    created = (await api.post("/v1/users", ADMIN, json=new_user())).json()
    params = {"entity_type": "user", "entity_id": str(created["id"])}

    as_ops = (await api.get("/v1/audit-events", OPS, params=params)).json()["items"]
    as_admin = (await api.get("/v1/audit-events", ADMIN, params=params)).json()["items"]

    assert as_admin[0]["after"]["identities"] == [ENTRA]
    (event,) = as_ops
    assert event["after"]["identities"] == [{**ENTRA, "subject": "[redacted]"}]
    assert event["after"]["email"] == created["email"]  # who was provisioned stays readable
    one = (await api.get(f"/v1/audit-events/{event['id']}", OPS)).json()
    assert ENTRA["subject"] not in str(one)


async def test_assignable_users_come_in_keyset_pages_by_name(api: Api) -> None:
    for n in range(3):  # more staff than one small page holds
        body = new_user(
            email=f"a{n}@ikan.example",
            name="Alex Same",
            identity={**ENTRA, "subject": f"alex-{n}"},
        )
        assert (await api.post("/v1/users", ADMIN, json=body)).status_code == 201
    whole = (await api.get("/v1/assignable-users", OPS, params={"limit": 200})).json()
    assert whole["next_cursor"] is None

    paged, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/assignable-users", OPS, params=params)).json()
        paged += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert paged == whole["items"] and pages == (len(paged) + 1) // 2
    assert [(u["name"], u["id"]) for u in paged] == sorted((u["name"], u["id"]) for u in paged)
    assert {u["role"] for u in paged} == {"operations", "admin"}
    assert [u["name"] for u in paged].count("Alex Same") == 3
    assert (await api.get("/v1/assignable-users", OPS, params={"limit": 201})).status_code == 422
    forged = await api.get("/v1/assignable-users", OPS, params={"cursor": cursor or "abc"})
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_cursor"


async def test_user_search_takes_wildcards_and_backslashes_literally(api: Api) -> None:
    odd = new_user(email="ana_lu@ikan.example", name="Ana Lu (100%) \\ night shift")
    created = (await api.post("/v1/users", ADMIN, json=odd)).json()

    async def found(q: str) -> list[str]:
        response = await api.get("/v1/users", ADMIN, params={"q": q, "limit": 200})
        assert response.status_code == 200, response.text
        return [u["email"] for u in response.json()["items"]]

    for q in ("%", "_", "\\", "0%)", "a_l", "\\ n"):
        assert await found(q) == [created["email"]], q
    assert await found("%%") == await found("a%u") == await found("\\%") == []


@pytest.mark.parametrize(
    ("shared", "code"),
    [("email", "email_taken"), ("identity", "identity_taken")],
)
async def test_two_admins_provisioning_the_same_person_at_once_get_201_and_409(
    api: Api, platform_app: Any, shared: str, code: str
) -> None:
    """Both requests pass the checks before either inserts (real SQL, held at a barrier)."""
    bodies = [
        new_user(
            email="alice.moreau@ikan.example" if shared == "email" else f"alice{i}@ikan.example",
            identity=ENTRA if shared == "identity" else {**ENTRA, "subject": f"subject-{i}"},
        )
        for i in (1, 2)
    ]
    headers = [await api.headers(ADMIN), await api.headers(ADMIN_2)]
    both_checked = threading.Barrier(2, timeout=5)

    def insert_together(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USERS"):
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait()

    engine = platform_app.state.engine
    sa_event.listen(engine, "before_cursor_execute", insert_together)
    try:
        responses = await asyncio.gather(
            *(
                api.oracle.post("/v1/users", json=body, headers=h)
                for body, h in zip(bodies, headers, strict=True)
            )
        )
    finally:
        sa_event.remove(engine, "before_cursor_execute", insert_together)

    assert not both_checked.broken, "the two requests did not race"
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    (won,) = [r.json() for r in responses if r.status_code == 201]
    (lost,) = [r.json() for r in responses if r.status_code == 409]
    assert lost["code"] == code
    assert lost["detail"] == (
        "alice.moreau@ikan.example already exists."
        if shared == "email"
        else f"That subject already signs in as user {won['id']}."
    )
    with platform_app.state.sessionmaker() as session:
        users = session.scalars(select(User).where(User.email.like("alice%"))).all()
        created = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.actor_id > 0)
        ).all()
        identities = session.scalars(select(Identity).where(Identity.issuer == ENTRA["issuer"]))
        assert [u.id for u in users] == [won["id"]]
        assert [e.entity_id for e in created] == [str(won["id"])]
        assert {i.user_id for i in identities} == {won["id"]}


async def test_giving_a_user_the_role_they_have_changes_nothing(api: Api) -> None:
    tom = await user_by_email(api, OPS_2)

    response = await api.post(
        f"/v1/users/{tom['id']}/role",
        ADMIN,
        json={"role": "operations", "reason": "Confirming the role"},
        if_match=tom["version"],
    )

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "no_change"
    assert response.json()["detail"] == "Tom Becker already has the role Operations."
    assert (await user_by_email(api, OPS_2))["version"] == tom["version"]


async def test_moving_a_supplier_user_to_another_supplier_is_a_change(api: Api) -> None:
    tom = await user_by_email(api, OPS_2)
    body = {"role": "supplier", "supplier_id": 1, "reason": "Moved to Cityhome"}
    moved = await api.post(f"/v1/users/{tom['id']}/role", ADMIN, json=body, if_match=tom["version"])
    assert moved.status_code == 200, moved.text

    again = await api.post(
        f"/v1/users/{tom['id']}/role", ADMIN, json=body, if_match=moved.json()["version"]
    )
    onwards = await api.post(
        f"/v1/users/{tom['id']}/role",
        ADMIN,
        json={**body, "supplier_id": 2},
        if_match=moved.json()["version"],
    )

    assert again.status_code == 409 and again.json()["code"] == "no_change"
    assert again.json()["detail"] == "Tom Becker already has the role Supplier with that supplier."
    assert onwards.status_code == 200 and onwards.json()["supplier_id"] == 2


async def test_undoing_an_old_write_that_changed_nothing_is_refused_as_no_change(
    api: Api, platform_app: Any, clock: Any
) -> None:
    """Before no-op writes were refused, "give Tom the role he has" left such an event."""
    tom = await user_by_email(api, OPS_2)
    with platform_app.state.engine.begin() as connection:
        connection.execute(
            AuditEvent.__table__.insert().values(
                occurred_at=clock(),
                actor_id=1,
                actor_email=ADMIN,
                actor_role="admin",
                action="user.change_role",
                entity_type="user",
                entity_id=str(tom["id"]),
                before=tom,
                after=tom,
                request_id="before-the-fix",
                reason="Confirming the role",
            )
        )
    (event,) = await api.events(entity_type="user", entity_id=str(tom["id"]), limit=1)
    assert event["request_id"] == "before-the-fix"

    response = await api.oracle.post(  # the harness would rightly flag the doctored history
        f"/v1/audit-events/{event['id']}/undo",
        headers=await api.headers(ADMIN),
        json={"reason": "Undo it"},
    )

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "no_change"
    assert (await user_by_email(api, OPS_2))["version"] == tom["version"]
