"""The meeting's life before it starts (SPEC §3–§4): the only writer of a meeting's status,
approvals and credit status, with ``parlour.meetings.outcome`` for what follows the start.

Each function is one transaction: it locks the meeting, checks the rule (side, state, time),
changes the meeting, moves credits through ``parlour.credits.ledger``, writes the timeline
and the outbox — all or nothing — and returns the meeting as it now is. A refused action
raises ``DomainError`` naming the rule. The functions live by what they do:

- ``making``: book a slot (B1, B2, B7), propose (B3), offer time options and pick one (B4);
- ``answering``: confirm or reject (L2, L3, L5, L6, L17), cancel (L1, L4, L7–L9), lapse (L18);
- ``rescheduling``: alternative dates (L10–L14), reassign (L15), change directly (L16).
"""

from .answering import cancel_meeting, confirm_meeting, lapse_meeting, reject_meeting
from .making import book_meeting, offer_time_options, pick_time_option, propose_meeting
from .rescheduling import (
    change_meeting_time,
    confirm_alternative,
    propose_alternative,
    reassign_meeting,
    reject_alternative,
    withdraw_alternative,
)
from .shared import MAX_TEXT, MAX_TIME_OPTIONS, Party

__all__ = [
    "MAX_TEXT",
    "MAX_TIME_OPTIONS",
    "Party",
    "book_meeting",
    "cancel_meeting",
    "change_meeting_time",
    "confirm_alternative",
    "confirm_meeting",
    "lapse_meeting",
    "offer_time_options",
    "pick_time_option",
    "propose_alternative",
    "propose_meeting",
    "reassign_meeting",
    "reject_alternative",
    "reject_meeting",
    "withdraw_alternative",
]
