"""`{% load pages_nav %}`: `{% nav_urls as nav %}`, the site-wide links every page's header and footer
print (`nav.home`, `nav.friends`, ...), reversed once per URL configuration instead of per page.

The header alone held fifteen `{% url %}` tags, about a third of the cost of rendering a page that
lists nobody (each `reverse()` walks the resolver and quotes its arguments). The names are fixed and take
no argument, so their URLs only change with the URL configuration or the script prefix, the cache's key.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

# Attribute in the template -> URL name.
NAV = {
    "home": "home",
    "friends": "friends",
    "suggestions": "suggestions",
    "share_new": "share-new",
    "notifications": "notifications",
    "unread_count": "api-notification-unread-count",
    "tasks": "task-list",
    "stats": "stats",
    "settings": "settings",
    "logout": "logout",
    "login": "login",
    "signup": "signup",
    "api_docs": "api-docs",
}


@lru_cache(maxsize=8)
def _reversed(script_prefix: str, urlconf: str) -> dict[str, str]:
    return {attr: reverse(name, urlconf=urlconf) for attr, name in NAV.items()}


@register.simple_tag
def nav_urls() -> dict[str, str]:
    """The URLs of `NAV` by attribute, for the current script prefix and URL configuration."""
    return _reversed(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
