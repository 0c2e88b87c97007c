"""The rest of an operator's booking work: send, confirm, decline, hold, resume, escalate, assign.

A mixin for `QueuesView`, which provides `_target()` and `run_action()`. Each step is offered
(and shown in the footer) only when the platform would accept it: `step_offered` mirrors the
rules of ikan_platform/services/bookings.py, and the platform still decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import work

from ikan_console.api.errors import IkanError
from ikan_console.api.models import Booking, User
from ikan_console.formatting import status_label
from ikan_console.screens.assign_dialog import AssignDialog
from ikan_console.screens.reason_dialog import REASON, REFERENCE, ReasonDialog, TextRule

WORKING = ("new", "awaiting_supplier", "needs_attention", "on_hold", "confirmed")
# action -> booking states it is offered in (mirrors ikan_platform/services/bookings.py)
STEP_STATES: dict[str, tuple[str, ...]] = {
    "claim": WORKING,
    "release": WORKING,
    "cancel_booking": WORKING,
    "assign": WORKING,
    "send": ("new", "needs_attention"),
    "confirm": ("new", "awaiting_supplier", "needs_attention"),
    "decline": ("awaiting_supplier", "confirmed"),
    "hold": ("new", "awaiting_supplier", "needs_attention", "confirmed"),
    "resume": ("on_hold",),
    "escalate": WORKING,
}

# The step in a sentence: "Could not {verb} BK-…".
ACTION_WORDS = {
    "claim": "claim",
    "release": "unclaim",
    "cancel": "cancel",
    "send-to-supplier": "send",
    "confirm": "confirm",
    "decline": "record the decline of",
    "hold": "hold",
    "resume": "resume",
    "escalate": "escalate",
    "assign": "assign",
}
# What the user is told once a step is done: a text, or one made from the booking it answered.
Done = str | Callable[[Booking], str]
# Asks for the step's text again (kept), with why it was refused: see BookingSteps.ask.
AskAgain = Callable[[Booking, str], None]


def step_offered(action: str, booking: Booking | None, me: User | None) -> bool:
    """Whether the footer should offer `action` for this booking to this user."""
    states = STEP_STATES.get(action)
    if states is None:
        return True
    if booking is None or booking.status not in states:
        return False
    holder = booking.assignee.id if booking.assignee else None
    if action == "claim":
        # Refused when anyone holds it (you, or a teammate: then Assign hands it over).
        return holder is None
    if action == "release":
        # Refused when nobody holds it, or a teammate does and you are not an admin.
        return holder is not None and (me is None or holder == me.id or me.role == "admin")
    if action == "escalate":
        return not booking.escalated
    return True


@dataclass(frozen=True)
class Ask:
    """A step that asks for a text first: a reason an auditor will read, or a reference."""

    action: str  # the platform's
    offered_as: str  # the console's action, for step_offered
    field: str
    rule: TextRule
    label: str
    placeholder: str
    title: Callable[[Booking], str]
    summary: Callable[[Booking], str]
    done: Callable[[Booking], str]


def _cancel_summary(b: Booking) -> str:
    return (
        f"{b.traveller_name}, {b.destination_city}, {b.check_in} → {b.check_out}, "
        f"{b.supplier.name}.\nStatus now: {status_label(b.status)}. Cancelling here does not "
        f"notify {b.supplier.name}: tell them. Operations or Admin can undo this for 24 hours."
    )


CANCEL = Ask(
    "cancel",
    "cancel_booking",
    "reason",
    REASON,
    "Cancel booking",
    "Reason (required, kept in the audit trail)",
    lambda b: f"Cancel booking {b.reference}?",
    _cancel_summary,
    lambda b: f"Cancelled {b.reference}.",
)
CONFIRM = Ask(
    "confirm",
    "confirm",
    "supplier_reference",
    REFERENCE,
    "Confirm booking",
    "The supplier's booking reference",
    lambda b: f"{b.supplier.name} confirmed {b.reference}?",
    lambda b: f"{b.property_name}, {b.check_in} → {b.check_out}.",
    lambda b: f"{b.reference} confirmed.",
)
DECLINE = Ask(
    "decline",
    "decline",
    "reason",
    REASON,
    "Record decline",
    "What the supplier said",
    lambda b: f"{b.supplier.name} declined {b.reference}?",
    lambda b: "The booking moves to Needs attention for a new supplier or dates.",
    lambda b: f"{b.reference}: decline recorded.",
)
HOLD = Ask(
    "hold",
    "hold",
    "reason",
    REASON,
    "Put on hold",
    "Why it waits (kept in the audit trail)",
    lambda b: f"Put {b.reference} on hold?",
    lambda b: "It leaves its queue for On hold until resumed.",
    lambda b: f"{b.reference} is on hold.",
)
ESCALATE = Ask(
    "escalate",
    "escalate",
    "reason",
    REASON,
    "Escalate",
    "What is at risk",
    lambda b: f"Escalate {b.reference}?",
    lambda b: "It moves to Needs attention, marked ESCALATED.",
    lambda b: f"{b.reference} escalated.",
)


class BookingSteps:
    """Actions for the supplier round-trip and for pausing or escalating a booking."""

    def ask(self, booking: Booking, step: Ask, initial: str = "", problem: str = "") -> None:
        """The step's dialog; it comes back with the text kept when sending it fails."""

        def send(text: str | None) -> None:
            if text:
                self.run_action(  # type: ignore[attr-defined]
                    booking,
                    step.action,
                    {step.field: text},
                    step.done(booking),
                    again=lambda current, why: self._ask_again(current, step, text, why),
                )

        dialog = ReasonDialog(
            step.title(booking),
            step.summary(booking),
            step.label,
            step.placeholder,
            initial,
            rule=step.rule,
            problem=problem,
        )
        self.app.push_screen(dialog, send)  # type: ignore[attr-defined]

    def _ask_again(self, booking: Booking, step: Ask, text: str, problem: str) -> None:
        """After a failed send: the dialog again with the text, if the step still applies."""
        if step_offered(step.offered_as, booking, self.app.client.user):  # type: ignore[attr-defined]
            self.ask(booking, step, text, problem)
        elif step is CANCEL and booking.status == "cancelled":
            self.app.notify(  # type: ignore[attr-defined]
                f"{booking.reference} is already cancelled. To reverse a cancel, undo it in "
                "Audit (2).",
                severity="warning",
            )

    def action_send(self) -> None:
        """Send the booking to its supplier for confirmation."""
        if (b := self._target()) is not None:  # type: ignore[attr-defined]
            self.run_action(  # type: ignore[attr-defined]
                b, "send-to-supplier", None, f"{b.reference} sent to {b.supplier.name}."
            )

    def action_confirm(self) -> None:
        """Record the supplier's confirmation and their reference."""
        if (b := self._target()) is not None:  # type: ignore[attr-defined]
            self.ask(b, CONFIRM)

    def action_decline(self) -> None:
        """Record that the supplier declined; the booking needs attention."""
        if (b := self._target()) is not None:  # type: ignore[attr-defined]
            self.ask(b, DECLINE)

    def action_hold(self) -> None:
        """Pause the booking with a reason."""
        if (b := self._target()) is not None:  # type: ignore[attr-defined]
            self.ask(b, HOLD)

    def action_resume(self) -> None:
        """Take the booking off hold (back to New if it was never sent to the supplier)."""
        if (b := self._target()) is not None:  # type: ignore[attr-defined]
            self.run_action(  # type: ignore[attr-defined]
                b,
                "resume",
                None,
                lambda after: f"{b.reference} is off hold: {status_label(after.status)}.",
            )

    def action_escalate(self) -> None:
        """Flag the booking for senior attention."""
        if (b := self._target()) is not None:  # type: ignore[attr-defined]
            self.ask(b, ESCALATE)

    def action_assign(self) -> None:
        """Hand the booking to a teammate."""
        if (b := self._target()) is not None:  # type: ignore[attr-defined]
            self.pick_assignee(b)

    @work(group="booking-assign", exclusive=True, exit_on_error=False)
    async def pick_assignee(self, booking: Booking) -> None:
        """Load the teammates, let the user pick one, assign."""
        try:
            teammates = await self.app.client.assignable_users()  # type: ignore[attr-defined]
        except IkanError as error:
            self.app.report(error, "Could not load your teammates")  # type: ignore[attr-defined]
            return
        current = booking.assignee.id if booking.assignee else None
        chosen = await self.app.push_screen_wait(  # type: ignore[attr-defined]
            AssignDialog(booking.reference, teammates, current)
        )
        if chosen is not None:
            self.run_action(  # type: ignore[attr-defined]
                booking,
                "assign",
                {"assignee_id": chosen.id},
                f"{booking.reference} assigned to {chosen.name}.",
            )
