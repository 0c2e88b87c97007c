"""Who may call what: the role policy, in one table, keyed by OpenAPI operation id.

Every authenticated route looks itself up here (`security.current_user`), on every request, with
the role read from the database at that moment; an operation missing from the table is refused
for everyone, and a test walks the OpenAPI document against it. Row-level scoping (a supplier
sees only bookings sent to it, a traveler only their own, a relocation manager only their
clients') lives in `services/bookings.visible_to`. docs/rbac.md is rendered from this table by
`python -m ikan_platform.policy`.
"""

from __future__ import annotations

from typing import Any

ROLES = ("rmc", "operations", "admin", "supplier", "traveler")
OPS = frozenset({"operations", "admin"})
ADMIN = frozenset({"admin"})
EVERYONE = frozenset(ROLES)

# Routes that need no signed-in user (sign-in itself, and the sandbox's user list).
PUBLIC_OPERATIONS = frozenset(
    {"exchange_token", "refresh_token", "logout", "issue_nonce", "list_sandbox_users", "health"}
)

POLICY: dict[str, frozenset[str]] = {
    "get_me": EVERYONE,
    "list_queues": OPS,
    # Everyone may list and read bookings, but only the rows `visible_to` their role.
    "list_bookings": EVERYONE,
    "get_booking": EVERYONE,
    # Notes are the operators' working notes, not meant for customers or suppliers.
    "list_booking_notes": OPS,
    "send_booking_to_supplier": OPS,
    "claim_booking": OPS,
    "release_booking": OPS,
    "assign_booking": OPS,
    # Suppliers answer the bookings sent to them (the rules refuse any other state).
    "confirm_booking": OPS | {"supplier"},
    "decline_booking": OPS | {"supplier"},
    "escalate_booking": OPS,
    "hold_booking": OPS,
    "resume_booking": OPS,
    "cancel_booking": OPS,
    "add_booking_note": OPS,
    "list_audit_events": OPS,
    "get_audit_event": OPS,
    "undo_audit_event": OPS,
    "list_deletion_requests": OPS,
    "create_deletion_request": OPS,
    "get_deletion_request": OPS,
    "preview_deletion_request": OPS,
    "verify_deletion_request": OPS,
    "mark_deletion_request_ready": OPS,
    "approve_deletion_request": OPS,
    "execute_deletion_request": OPS,
    "reject_deletion_request": OPS,
    "extend_deletion_request": OPS,
    "list_users": ADMIN,
    "get_user": ADMIN,
    "create_user": ADMIN,
    "change_user_role": ADMIN,
    "deactivate_user": ADMIN,
    "reactivate_user": ADMIN,
    "list_assignable_users": OPS,
}

# Who sees the identity-provider subjects (the stable sign-in identifiers) inside audit events of
# users; Operations read those events (an erasure they executed shows there) with each subject as
# "[redacted]". Provider and issuer stay visible: they say how someone signs in, not who.
SEES_IDENTITY_SUBJECTS = ADMIN

ROW_SCOPES = (
    ("rmc", "bookings of their own client (company) only"),
    (
        "supplier",
        "bookings of their company that were sent to it (`sent_to_supplier_at` set by"
        " send-to-supplier or confirm, kept afterwards; never one Ops held, escalated or"
        " cancelled before sending); they answer only those awaiting them",
    ),
    ("traveler", "their own bookings (matched on the traveller's email) only"),
    (
        "operations",
        "everything, except identity-provider subjects in audit events of users (shown as"
        " `[redacted]`)",
    ),
    ("admin", "everything"),
)


def allowed(operation_id: str, role: str) -> bool:
    """True when `role` may call `operation_id`; unknown operations are refused."""
    return role in POLICY.get(operation_id, frozenset())


def _operations(openapi: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """operation id -> (METHOD, path) from an OpenAPI document."""
    found = {}
    for path, methods in openapi.get("paths", {}).items():
        for method, operation in methods.items():
            found[operation["operationId"]] = (method.upper(), path)
    return found


def render_markdown(openapi: dict[str, Any]) -> str:
    """The policy as Markdown (docs/rbac.md), with each operation's method and path."""
    where = _operations(openapi)
    lines = [
        "# Role policy",
        "",
        "Generated from `ikan_platform/policy.py` by `python -m ikan_platform.policy >"
        " docs/rbac.md`; a test fails when this file is out of date. The server enforces the"
        " table on every request, reading the caller's role from the database each time (a"
        " role change or deactivation takes effect on the next request). Refused calls get"
        " `403` with code `forbidden`; an operation missing from the table is refused for"
        " everyone.",
        "",
        "| operation | method and path | " + " | ".join(ROLES) + " |",
        "| --- | --- | " + " | ".join("---" for _ in ROLES) + " |",
    ]
    for op, granted in sorted(POLICY.items()):
        method, path = where.get(op, ("", "(not served yet)"))
        cells = " | ".join("yes" if role in granted else "-" for role in ROLES)
        lines.append(f"| `{op}` | `{method} {path}` | {cells} |")
    lines += [
        "",
        "## Row scopes",
        "",
        "Allowed to call is not allowed to see everything: lists and reads are narrowed per role.",
        "",
        "| role | sees |",
        "| --- | --- |",
        *(f"| {role} | {sees} |" for role, sees in ROW_SCOPES),
        "",
        "## Undo",
        "",
        "`undo_audit_event` is narrowed per action by `ikan_platform/services/undo.ACTIONS`"
        " (docs/audit.md): a write can be undone only by the roles that may make it.",
        "",
        "| actions | undo by |",
        "| --- | --- |",
        *_undo_rows(),
        "",
        "Anyone else gets `403` with code `undo_forbidden` (and `allowed_roles`).",
        "",
        "## Public operations",
        "",
        "No sign-in needed: " + ", ".join(f"`{op}`" for op in sorted(PUBLIC_OPERATIONS)) + ".",
    ]
    return "\n".join(lines) + "\n"


def _undo_rows() -> list[str]:
    """One row per group of undoable actions with the same undo roles."""
    from ikan_platform.services.undo import ACTIONS

    groups: dict[frozenset[str], list[str]] = {}
    for action, rule in ACTIONS.items():
        if rule.undoable and action != "undo":
            groups.setdefault(rule.undo_roles, []).append(f"`{action}`")
    rows = [
        f"| {', '.join(actions)} | {', '.join(r for r in ROLES if r in roles)} |"
        for roles, actions in groups.items()
    ]
    return [*rows, "| `undo` | as the write at the start of its undo chain |"]


if __name__ == "__main__":
    from ikan_platform.openapi_doc import build_openapi

    print(render_markdown(build_openapi()), end="")
