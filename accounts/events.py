"""Domain events of accounts (past tense): a user leaving or returning. Payloads carry the user's id only.

Emitted by `accounts.signals` for every save or delete of a user, whoever makes it (the services of
`accounts.services`, the admin, a management command, a shell), so the derived friend graph
(`friends.subscribers.update_graph_after_user`) hears of every one.
"""

from socialsite.events import DomainEvent

_USER = {"user_id": int}

user_deactivated = DomainEvent(
    "user.deactivated",
    fields=_USER,
    doc="An account was deactivated: shown and counted nowhere, its rows kept.",
)
user_reactivated = DomainEvent(
    "user.reactivated", fields=_USER, doc="A deactivated account is active again, with its friendships."
)
user_deleted = DomainEvent(
    "user.deleted",
    fields=_USER,
    doc="An account was deleted; its friendships, requests, blocks and dismissals went with it (cascade).",
)
