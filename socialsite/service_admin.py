"""Admin pages whose writes go through services: a refusal is shown to the admin, never a 500; and
`ReadOnlyModelAdmin` for what the admin may only look at.

HackSoft's pattern (``try: service(...) except ServiceError as e: self.message_user(request, e.message,
messages.ERROR)``), applied once to every place Django admin writes:

- the add and change form: the form is shown again, filled in, with the service's message (200);
- the delete page: the confirmation page is shown again with the message (200);
- bulk actions, including "delete selected": each object goes through the service on its own; every
  refusal is shown with the object it is about, the others go on, and the count says what was done.

Nothing is half-written: each service is one transaction, and Django runs the add, change and delete
views in one transaction too, which the escaping `ServiceError` rolls back (with its log entry).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict

from .errors import ServiceError

_REFUSAL = "_service_refusal"  # request attribute: the message of a refused save, for the form shown again


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """A ModelAdmin that only shows rows: they are written by the product's own paths (a service, a
    worker), and a write here would bypass its event or lose one."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose `save_model`, `delete_model` and actions call services that may refuse."""

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            # Run the view again: the same POST, now with a form that fails validation with the refusal,
            # so Django renders it filled in, as for any invalid input, instead of saving.
            setattr(request, _REFUSAL, exc.message)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        return form_class if refusal is None else _refused_form(form_class, refusal)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return super().delete_view(_unconfirmed(request), object_id, extra_context)

    def get_actions(self, request: HttpRequest) -> dict:
        """Django's "delete selected" deletes the whole queryset at once; here each object goes through
        `delete_model` (the service), and refusals are reported one by one."""
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions[name] = (ServiceModelAdmin._delete_selected_one_by_one, name, description)
        return actions

    def _delete_selected_one_by_one(self, request: HttpRequest, queryset) -> HttpResponse | None:
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)  # the confirmation page, as usual

        def delete(obj: Any) -> None:
            with transaction.atomic():  # the log entry goes if the service refuses
                self.log_deletions(request, [obj])
                self.delete_model(request, obj)

        self.apply_each(request, list(queryset), delete, done="Deleted {count} " + str(self.opts.verbose_name_plural))
        return None

    def apply_each(
        self, request: HttpRequest, objects: Iterable[Any], call: Callable[[Any], object], *, done: str
    ) -> int:
        """Call `call(obj)` for each object; show each refusal (messages.ERROR) with its object and go on.

        `done` is the success message, with ``{count}`` for how many went through (shown when any did).
        A call that returns False changed nothing (the services' "already so", e.g. deactivating an
        inactive user): it is not counted as done, and the page says how many were left as they were.
        Returns how many were done.
        """
        count = unchanged = 0
        for obj in objects:
            try:
                result = call(obj)
            except ServiceError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            else:
                if result is False:
                    unchanged += 1
                else:
                    count += 1
        if count:
            self.message_user(request, done.format(count=count) + ".", messages.SUCCESS)
        if unchanged:
            self.message_user(request, f"{unchanged} already so, left unchanged.", messages.INFO)
        return count


def _refused_form(form_class: type[forms.BaseForm], refusal: str) -> type:
    class RefusedForm(form_class):
        def clean(self) -> dict:
            cleaned = super().clean()
            self.add_error(None, refusal)
            return cleaned

    return RefusedForm


def _unconfirmed(request: HttpRequest) -> HttpRequest:
    """The same request without its confirming POST data, so the delete page is shown again."""
    again = copy.copy(request)
    again.method = "GET"
    again.POST = QueryDict()
    return again
