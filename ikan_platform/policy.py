"""Who may call what: the role policy, in one table, keyed by OpenAPI operation id.

Every authenticated route looks itself up here (`security.current_user`); an operation missing
from the table is refused for everyone, and a test walks the OpenAPI document against it.
Row-level scoping (a supplier sees only bookings sent to it, a traveler only their own, a
relocation manager only their clients') lives in `services/scopes.py`. docs/rbac.md is rendered
from this table by `python -m ikan_platform.policy`.
"""

from __future__ import annotations

OPS = frozenset({"operations", "admin"})
ADMIN = frozenset({"admin"})
EVERYONE = frozenset({"rmc", "operations", "admin", "supplier", "traveler"})

# Routes that need no signed-in user (sign-in itself, and the sandbox's user list).
PUBLIC_OPERATIONS = frozenset(
    {"exchange_token", "refresh_token", "logout", "issue_nonce", "list_sandbox_users", "health"}
)

POLICY: dict[str, frozenset[str]] = {
    "get_me": EVERYONE,
    "list_queues": OPS,
    "list_bookings": EVERYONE,
    "get_booking": EVERYONE,
    "list_booking_notes": EVERYONE - {"traveler"},
    "send_booking_to_supplier": OPS,
    "claim_booking": OPS,
    "release_booking": OPS,
    "assign_booking": OPS,
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


def allowed(operation_id: str, role: str) -> bool:
    """True when `role` may call `operation_id`; unknown operations are refused."""
    return role in POLICY.get(operation_id, frozenset())


def render_markdown() -> str:
    """The policy as a Markdown table (docs/rbac.md)."""
    roles = ("rmc", "operations", "admin", "supplier", "traveler")
    lines = [
        "# Role policy",
        "",
        "Generated from `ikan_platform/policy.py` (`python -m ikan_platform.policy > docs/rbac.md`)."
        " The server enforces it on every route; rows are further scoped: relocation managers see"
        " their own clients' bookings, suppliers only bookings sent to them, travelers only"
        " their own.",
        "",
        "| operation | " + " | ".join(roles) + " |",
        "| --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for op, granted in sorted(POLICY.items()):
        lines.append(
            f"| `{op}` | " + " | ".join("yes" if r in granted else "-" for r in roles) + " |"
        )
    lines += ["", "Public (no sign-in): " + ", ".join(f"`{o}`" for o in sorted(PUBLIC_OPERATIONS))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
