"""Writes of shares: create (one transaction, `share.created`), process (in a worker), delete.

Files go through Django's storage API only (`Share.file.storage`, configured by `STORAGES`), under random
server-side names; the client's name is kept only to be shown and offered on download.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from socialsite.errors import Forbidden, NotFound
from socialsite.events import subscriber_message_id
from socialsite.taskstatus import report_progress

from .. import events
from ..models import Share
from . import processing, selectors, validation

logger = logging.getLogger(__name__)
PROCESSING_STEPS = 3  # checksum, thumbnail, saved


def share_create(*, owner: AbstractBaseUser, file: File | None = None, url: str = "", caption: str = "") -> Share:
    """Share a file and/or an http(s) link with `owner`'s friends.

    Everything is checked before anything is written (see `validation`), so a refusal leaves nothing on
    disk or in the database. The file is stored under a random name, then the share row and its
    `share.created` event are written in one transaction. A file share starts `processing` and records
    the id of its processing task (the message the outbox will send, so it is known now); a link-only
    share is `ready` at once.

    Raises:
        UploadTooLarge: the file is over SHARE_MAX_UPLOAD_BYTES (HTTP 413).
        UploadRefused: neither file nor link; an empty file; a path-like or NUL-bearing file name; a type
            not on the allow-list or content that is more than it claims; a link that is not http(s); a
            caption over its limit. `code` names the rule (`empty`, `empty_file`, `file_name`, `file_type`,
            `image`, `url`, `caption`).
    """
    from . import tasks  # the processing subscriber (tasks imports this module)

    caption = validation.check_caption(caption)
    url = validation.check_url(url)
    checked = validation.check_file(file) if file is not None else None
    if checked is None and not url:
        raise validation.UploadRefused("Choose a file or give a link (or both).", code="empty")

    share = Share(owner=owner, caption=caption, url=url)
    if checked is not None:
        share.original_name, share.content_type, share.size = checked.name, checked.content_type, checked.size
        share.file.save(checked.name, file, save=False)  # storage API; upload_to picks the random name
    else:
        share.state = Share.State.READY
    try:
        with transaction.atomic():
            share.save()
            event = events.share_created.emit(share_id=share.pk, owner_id=owner.pk)
            if checked is not None:
                share.processing_task_id = subscriber_message_id(event, tasks.process_share)
                Share.objects.filter(pk=share.pk).update(processing_task_id=share.processing_task_id)
    except BaseException:
        # Nothing may outlive a failed create. (An enclosing transaction that rolls back later is the
        # caller's: views and the API call this in autocommit mode.)
        _delete_files([share.file.name] if checked is not None else [])
        raise
    return share


def share_process(*, share_id: int, last_attempt: bool = False) -> str:
    """Checksum and, for images, a thumbnail; then the share is `ready`, or `failed` with a reason.

    Called by the `share.created` subscriber, so it runs at least once per share and must be idempotent:
    the share row is locked for the whole run and a share no longer `processing` is left alone, so a
    redelivered event makes no second thumbnail. The thumbnail's name derives from the file's, and any
    file left there by an attempt that crashed before its commit is replaced, not duplicated. A share
    deleted meanwhile is dropped quietly. Progress (`done/3`) goes to the task record.

    Content problems (a damaged image, a bomb, a missing file) mark the share failed at once. Any other
    error is raised so the task is retried; on the `last_attempt` the share is first marked failed, so it
    is never left `processing` for ever.

    Returns the share's state afterwards (`ready`, `failed`), or `gone`.
    """
    try:
        return _process(share_id)
    except Exception as exc:
        if last_attempt:
            _give_up(share_id, f"Processing failed after several attempts ({type(exc).__name__}).")
        raise


def _process(share_id: int) -> str:
    report_progress(0, PROCESSING_STEPS, "waiting for the share")
    with transaction.atomic():
        share = Share.objects.select_for_update().filter(pk=share_id).first()
        if share is None:
            return "gone"
        if share.state != Share.State.PROCESSING:
            # A link alone (ready when made: nothing to process), or an event delivered again: no step
            # is left, so the owner's task page says so instead of 0 of 3 steps.
            report_progress(PROCESSING_STEPS, PROCESSING_STEPS, f"nothing to do: the share is {share.state}")
            return share.state
        if not share.file:
            share.state = Share.State.READY
            share.save(update_fields=["state"])
            return share.state
        thumbnail_name = ""
        try:
            with share.file.open("rb") as stored:
                share.checksum = processing.sha256_of(stored)
                report_progress(1, PROCESSING_STEPS, "checksum computed")
                if share.content_type in validation.IMAGE_FORMATS:
                    thumbnail_name = _store_thumbnail(share, processing.thumbnail_of(stored))
            report_progress(2, PROCESSING_STEPS, "thumbnail made" if thumbnail_name else "no thumbnail needed")
        except (processing.ProcessingFailed, FileNotFoundError) as exc:
            reason = exc.reason if isinstance(exc, processing.ProcessingFailed) else "The stored file is missing."
            return _mark_failed(share, reason)
        share.thumbnail.name = thumbnail_name
        share.state = Share.State.READY
        share.failure_reason = ""
        share.save(update_fields=["checksum", "thumbnail", "state", "failure_reason"])
    report_progress(3, PROCESSING_STEPS, "ready")
    return Share.State.READY


def _give_up(share_id: int, reason: str) -> None:
    with transaction.atomic():
        share = Share.objects.select_for_update().filter(pk=share_id, state=Share.State.PROCESSING).first()
        if share is not None:
            _mark_failed(share, reason)


def share_delete(*, share_id: int, user: AbstractBaseUser) -> None:
    """The owner deletes a share; its file and thumbnail are deleted from storage after the commit.

    Raises:
        NotFound: no such share, or not visible to `user`.
        Forbidden: visible (a friend's share) but not `user`'s own.
    """
    with transaction.atomic():
        share = Share.objects.select_for_update().filter(pk=share_id).first() if share_id <= selectors.MAX_ID else None
        if share is None or not selectors.shares_visible_to(viewer=user).filter(pk=share.pk).exists():
            raise NotFound("No such share.")
        if share.owner_id != user.pk:
            raise Forbidden("Only the person who shared this can delete it.", code="not_owner")
        names = [share.file.name, share.thumbnail.name]
        share.delete()
        events.share_deleted.emit(share_id=share_id, owner_id=user.pk)
        transaction.on_commit(lambda: _delete_files(names))


def _mark_failed(share: Share, reason: str) -> str:
    """Failed and not half-made: no thumbnail is kept."""
    _delete_files([share.thumbnail.name])
    share.thumbnail.name = ""
    share.state = Share.State.FAILED
    share.failure_reason = reason[: Share._meta.get_field("failure_reason").max_length]
    share.save(update_fields=["checksum", "thumbnail", "state", "failure_reason"])
    logger.warning("share %s processing failed: %s", share.pk, reason)
    return share.state


def _store_thumbnail(share: Share, data: bytes) -> str:
    storage = share.thumbnail.storage
    name = f"thumbnails/{os.path.basename(share.file.name)}.{processing.THUMBNAIL_EXTENSION}"
    if storage.exists(name):  # left by an attempt that crashed before its commit: replace it
        storage.delete(name)
    return storage.save(name, ContentFile(data))


def _delete_files(names: Iterable[str]) -> None:
    storage = Share._meta.get_field("file").storage
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except OSError:
            # The row is gone either way; a file that could not be deleted is logged for an operator.
            logger.exception("could not delete stored file %s", name)
