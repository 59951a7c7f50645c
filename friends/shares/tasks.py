"""The share processing actor: a thin adapter from `share.created` to `services.share_process`."""

from dramatiq.middleware import CurrentMessage

from socialsite import queues
from socialsite.events import subscriber

from .. import events
from . import services

MAX_RETRIES = 5


@subscriber(events.share_created, queue_name=queues.DEFAULT, owner_field="owner_id", max_retries=MAX_RETRIES)
def process_share(event: dict) -> str:
    """Checksum and thumbnail for a new share; its task record belongs to the share's owner."""
    message = CurrentMessage.get_current_message()
    last_attempt = message is not None and message.options.get("retries", 0) >= MAX_RETRIES
    return services.share_process(share_id=event["payload"]["share_id"], last_attempt=last_attempt)
