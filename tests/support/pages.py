"""Driving the server-rendered pages like a browser, with the Django test client."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.test import Client


def browser(user: AbstractBaseUser | None = None) -> Client:
    """A test client with its own cookies, logged in as `user` (a session, as a browser has) when given."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page_messages(response) -> list[str]:
    """The flash messages the page shows (Django's messages framework), in order."""
    return [str(m) for m in response.context["messages"]]
