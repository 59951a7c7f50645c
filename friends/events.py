"""Domain events of the friend graph (past tense). Payloads carry ids only; each declares its fields."""

from socialsite.events import DomainEvent

_REQUEST = {"request_id": int, "from_user_id": int, "to_user_id": int}

friend_request_sent = DomainEvent("friend_request.sent", fields=_REQUEST, doc="A pending request was created.")
friend_request_accepted = DomainEvent(
    "friend_request.accepted", fields=_REQUEST, doc="Accepted; the same transaction emits friendship.created."
)
friend_request_declined = DomainEvent("friend_request.declined", fields=_REQUEST, doc="The receiver said no.")
friend_request_cancelled = DomainEvent(
    "friend_request.cancelled", fields=_REQUEST, doc="The sender withdrew it, or a block closed it."
)
friendship_created = DomainEvent(
    "friendship.created", fields={"user_id": int, "friend_id": int}, doc="Both friendship rows were written."
)
friendship_removed = DomainEvent(
    "friendship.removed", fields={"user_id": int, "friend_id": int}, doc="Both friendship rows were deleted."
)
block_created = DomainEvent(
    "block.created", fields={"blocker_id": int, "blocked_id": int}, doc="A user blocked another."
)
block_removed = DomainEvent("block.removed", fields={"blocker_id": int, "blocked_id": int}, doc="A block was lifted.")
suggestion_dismissed = DomainEvent(
    "suggestion.dismissed", fields={"user_id": int, "dismissed_id": int}, doc="Never suggest this person again."
)
share_created = DomainEvent(
    "share.created",
    fields={"share_id": int, "owner_id": int},
    doc="A share was committed; its file awaits processing.",
)
share_deleted = DomainEvent(
    "share.deleted",
    fields={"share_id": int, "owner_id": int},
    without_subscribers=True,
    doc="The owner deleted a share.",
)
