"""Fixtures for every test: users, a clean Redis database, an API client."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from socialsite.redis import get_redis

User = get_user_model()
_names = itertools.count()


@pytest.fixture(autouse=True)
def clean_redis():
    """Tests use their own Redis DB number (test settings); it starts empty for each test."""
    get_redis().flushdb()
    yield


@pytest.fixture
def make_user(db):
    def make(username: str | None = None, password: str = "correct-horse-42", **extra):
        username = username or f"user{next(_names)}"
        return User.objects.create_user(username=username, password=password, email=f"{username}@example.com", **extra)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    """An API client authenticated as the given user (token auth, as real clients use)."""
    from rest_framework.authtoken.models import Token

    def login(user):
        token, _ = Token.objects.get_or_create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return login
