"""Fixtures for shares: friendships, uploads, and a look at what storage holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from friends import services as friend_services
from friends.shares import services

from . import samples


@pytest.fixture
def befriend(db):
    def make(*pairs) -> None:
        for a, b in pairs:
            friend_services.friendship_create(user=a, friend=b)

    return make


@pytest.fixture
def stored(media_root):
    """Every file in storage (paths relative to MEDIA_ROOT), to check that a refusal kept nothing."""

    def files() -> list[str]:
        root = Path(media_root)
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return files


@pytest.fixture
def share_file(db):
    """A share of `data` by `owner`, made through the service."""

    def make(owner, name: str = "photo.png", data: bytes | None = None, **kwargs):
        data = samples.png() if data is None else data
        return services.share_create(owner=owner, file=SimpleUploadedFile(name, data), **kwargs)

    return make
