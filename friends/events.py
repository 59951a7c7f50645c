"""Domain events of the friend graph (past tense). Payloads carry ids only."""

from socialsite.events import DomainEvent

friend_request_sent = DomainEvent("friend_request.sent")
friend_request_accepted = DomainEvent("friend_request.accepted")
friend_request_declined = DomainEvent("friend_request.declined")
friend_request_cancelled = DomainEvent("friend_request.cancelled")
friendship_created = DomainEvent("friendship.created")
friendship_removed = DomainEvent("friendship.removed")
block_created = DomainEvent("block.created")
block_removed = DomainEvent("block.removed")
suggestion_dismissed = DomainEvent("suggestion.dismissed")
