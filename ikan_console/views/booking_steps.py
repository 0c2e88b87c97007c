"""The rest of an operator's booking work: send, confirm, decline, hold, resume, escalate, assign.

A mixin for `QueuesView`, which provides `_selected()` and `run_action()`. Each step is offered
(and shown in the footer) only for the states the platform accepts it in.
"""

from __future__ import annotations

from textual import work

from ikan_console.api.errors import IkanError
from ikan_console.api.models import Booking
from ikan_console.screens.assign_dialog import AssignDialog
from ikan_console.screens.reason_dialog import ReasonDialog

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


def step_offered(action: str, booking: Booking | None) -> bool:
    """Whether the footer should offer `action` for this booking."""
    states = STEP_STATES.get(action)
    if states is None:
        return True
    # Only the state decides; who holds it and the like are the platform's to explain.
    return booking is not None and booking.status in states


class BookingSteps:
    """Actions for the supplier round-trip and for pausing or escalating a booking."""

    def _ask(
        self,
        booking: Booking,
        action: str,
        title: str,
        summary: str,
        label: str,
        placeholder: str,
        field: str,
        done: str,
    ) -> None:
        def send(value: str | None) -> None:
            if value:
                self.run_action(booking, action, {field: value}, done)  # type: ignore[attr-defined]

        self.app.push_screen(  # type: ignore[attr-defined]
            ReasonDialog(title, summary, label, placeholder), send
        )

    def action_send(self) -> None:
        """Send the booking to its supplier for confirmation."""
        if (b := self._selected()) is not None:  # type: ignore[attr-defined]
            self.run_action(  # type: ignore[attr-defined]
                b, "send-to-supplier", None, f"{b.reference} sent to {b.supplier.name}."
            )

    def action_confirm(self) -> None:
        """Record the supplier's confirmation and their reference."""
        if (b := self._selected()) is not None:  # type: ignore[attr-defined]
            self._ask(
                b,
                "confirm",
                f"{b.supplier.name} confirmed {b.reference}?",
                f"{b.property_name}, {b.check_in} → {b.check_out}.",
                "Confirm booking",
                "The supplier's booking reference",
                "supplier_reference",
                f"{b.reference} confirmed.",
            )

    def action_decline(self) -> None:
        """Record that the supplier declined; the booking needs attention."""
        if (b := self._selected()) is not None:  # type: ignore[attr-defined]
            self._ask(
                b,
                "decline",
                f"{b.supplier.name} declined {b.reference}?",
                "The booking moves to Needs attention for a new supplier or dates.",
                "Record decline",
                "What the supplier said",
                "reason",
                f"{b.reference}: decline recorded.",
            )

    def action_hold(self) -> None:
        """Pause the booking with a reason."""
        if (b := self._selected()) is not None:  # type: ignore[attr-defined]
            self._ask(
                b,
                "hold",
                f"Put {b.reference} on hold?",
                "It leaves its queue for On hold until resumed.",
                "Put on hold",
                "Why it waits (kept in the audit trail)",
                "reason",
                f"{b.reference} is on hold.",
            )

    def action_resume(self) -> None:
        """Take the booking off hold."""
        if (b := self._selected()) is not None:  # type: ignore[attr-defined]
            self.run_action(b, "resume", None, f"{b.reference} is back in work.")  # type: ignore[attr-defined]

    def action_escalate(self) -> None:
        """Flag the booking for senior attention."""
        if (b := self._selected()) is not None:  # type: ignore[attr-defined]
            self._ask(
                b,
                "escalate",
                f"Escalate {b.reference}?",
                "It moves to Needs attention, marked ESCALATED.",
                "Escalate",
                "What is at risk",
                "reason",
                f"{b.reference} escalated.",
            )

    def action_assign(self) -> None:
        """Hand the booking to a teammate."""
        if (b := self._selected()) is not None:  # type: ignore[attr-defined]
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
