"""Admin of users: Django's own user admin, with every change of a user's presence going through the
services (`accounts.services`), so each one emits its event and the derived friend graph follows.

- deleting a user (its page, or "delete selected", one by one): `user_delete`;
- unticking or ticking "active" on the change form: `user_deactivate` / `user_reactivate`;
- bulk actions "Deactivate selected users" and "Reactivate selected users", each user through the service.

A refusal is shown with the service's message (`socialsite.service_admin`), never a 500. A rename to a
name taken in another letter case or look-alike form is refused on the form (the database's unique
index on `LOWER(username)` would otherwise answer 500).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from socialsite.errors import ServiceError
from socialsite.service_admin import ServiceModelAdmin

from . import services
from .usernames import named, username_normalize

User = get_user_model()


class UserChangeForm(DjangoUserChangeForm):
    """Django's change form, plus the check sign-up makes: a name is taken in any letter case."""

    def clean_username(self) -> str:
        name = username_normalize(self.cleaned_data["username"])
        if named(User.objects.exclude(pk=self.instance.pk), name).exists():
            raise forms.ValidationError(services.TAKEN, code="username")
        return name


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(ServiceModelAdmin, DjangoUserAdmin):
    form = UserChangeForm
    actions = ["deactivate", "reactivate"]

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        """Other fields are saved as Django does; a change of "active" goes through its service, after."""
        active = obj.is_active
        if change and "is_active" in form.changed_data:
            obj.is_active = not active  # saved unchanged here: the service makes the change and its event
        try:
            with transaction.atomic():  # a savepoint: the refusal below leaves the admin's transaction usable
                super().save_model(request, obj, form, change)
        except IntegrityError as exc:  # lost a race for the name (accounts_user_username_lower_uniq)
            raise ServiceError(services.TAKEN, code="username") from exc
        if change and "is_active" in form.changed_data:
            (services.user_reactivate if active else services.user_deactivate)(user=obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.user_delete(user=obj)

    @admin.action(description="Deactivate selected users")
    def deactivate(self, request: HttpRequest, queryset) -> None:
        self.apply_each(
            request, queryset, lambda u: services.user_deactivate(user=u), done="Deactivated {count} user(s)"
        )

    @admin.action(description="Reactivate selected users")
    def reactivate(self, request: HttpRequest, queryset) -> None:
        self.apply_each(
            request, queryset, lambda u: services.user_reactivate(user=u), done="Reactivated {count} user(s)"
        )
