"""Every change of a user's presence emits its domain event, whoever makes it.

The services (`accounts.services.user_deactivate`, `user_reactivate`, `user_delete`) are the front door
that the admin and the management command use. Django also lets a user be saved or deleted from
anywhere (a shell, a cascade, a third-party app, the admin's own forms), and a missed event would leave
the derived friend graph wrong for good. So the events are emitted here, on the model's own signals, in
the transaction of the save or delete itself (a rolled-back change emits nothing):

- `pre_save`: `is_active` changed → `user.deactivated` / `user.reactivated` (one query to read the stored
  value, only when the save may write `is_active`; log-in's `update_fields=["last_login"]` costs nothing);
- `pre_delete`: `user.deleted`, before the cascade removes the user's friendships.

Not covered: `QuerySet.update(is_active=...)`, which sends no signal at all; nothing in the project does
it, and the consistency check (`friends.consistency`) repairs the derived graph if someone does.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_delete, pre_save

from . import events

User = get_user_model()


def user_presence_changed(sender: type, instance: Any, raw: bool = False, update_fields=None, **kwargs: Any) -> None:
    """`pre_save` of the user model: emit `user.deactivated` / `user.reactivated` when `is_active` flips."""
    if raw or instance.pk is None or (update_fields is not None and "is_active" not in update_fields):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    if stored is None or stored == instance.is_active:
        return
    event = events.user_reactivated if instance.is_active else events.user_deactivated
    event.emit(user_id=instance.pk)


def user_removed(sender: type, instance: Any, **kwargs: Any) -> None:
    """`pre_delete` of the user model: emit `user.deleted` in the deleting transaction."""
    events.user_deleted.emit(user_id=instance.pk)


def connect() -> None:
    """Called once from `AccountsConfig.ready()`."""
    pre_save.connect(user_presence_changed, sender=User, dispatch_uid="accounts.user_presence_changed")
    pre_delete.connect(user_removed, sender=User, dispatch_uid="accounts.user_removed")
