"""Admin for the friend graph. Changes go through the services, so they emit events; a refusal is shown
with the service's message (`socialsite.service_admin`), never a 500."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model

from socialsite.service_admin import ReadOnlyModelAdmin, ServiceModelAdmin

from . import services
from .models import Block, FriendRequest, Friendship, SuggestionDismissal

User = get_user_model()


class FriendshipAddForm(forms.ModelForm):
    class Meta:
        model = Friendship
        fields = ["user", "friend"]


@admin.register(Friendship)
class FriendshipAdmin(ServiceModelAdmin):
    list_display = ["user", "friend", "is_friend_since"]
    search_fields = ["user__username", "friend__username"]
    raw_id_fields = ["user", "friend"]
    list_select_related = ["user", "friend"]
    # A table of two rows per friendship (176k for the demo graph): no date hierarchy (it reads every
    # row's date to list the years and months) and no second, unfiltered count beside a search's; the
    # date filter's choices are fixed ranges. The list took 1.2 s on the demo's SQLite database.
    list_filter = ["is_friend_since"]
    show_full_result_count = False

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = FriendshipAddForm
        return super().get_form(request, obj, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a friendship is created or removed, never edited

    def save_model(self, request, obj, form, change) -> None:
        """Both rows and the `friendship.created` event come from the service."""
        services.friendship_create(user=obj.user, friend=obj.friend)
        obj.pk = Friendship.objects.get(user=obj.user, friend=obj.friend).pk

    def delete_model(self, request, obj) -> None:
        """Both rows go; when both rows of a pair are selected, the second is already gone with the first."""
        if Friendship.objects.filter(pk=obj.pk).exists():
            services.friendship_remove(user=obj.user, friend=obj.friend)


@admin.register(FriendRequest)
class FriendRequestAdmin(ServiceModelAdmin):
    list_display = ["id", "from_user", "to_user", "state", "created_at", "responded_at"]
    list_filter = ["state"]
    search_fields = ["from_user__username", "to_user__username"]
    list_select_related = ["from_user", "to_user"]
    readonly_fields = ["from_user", "to_user", "state", "created_at", "responded_at"]
    actions = ["accept", "decline"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a request is accepted, declined or cancelled (with its event), never erased

    @admin.action(description="Accept on behalf of the receiver")
    def accept(self, request, queryset) -> None:
        self._on_behalf_of_receiver(request, queryset, services.friend_request_accept, done="Accepted")

    @admin.action(description="Decline on behalf of the receiver")
    def decline(self, request, queryset) -> None:
        self._on_behalf_of_receiver(request, queryset, services.friend_request_decline, done="Declined")

    def _on_behalf_of_receiver(self, request, queryset, service, *, done: str) -> None:
        self.apply_each(
            request,
            queryset.select_related("from_user", "to_user"),
            lambda r: service(request_id=r.pk, user=r.to_user),
            done=done + " {count} request(s)",
        )


@admin.register(Block)
class BlockAdmin(ServiceModelAdmin):
    fields = ["blocker", "blocked"]
    list_display = ["blocker", "blocked", "created_at"]
    search_fields = ["blocker__username", "blocked__username"]
    raw_id_fields = ["blocker", "blocked"]
    list_select_related = ["blocker", "blocked"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = services.block_create(blocker=obj.blocker, blocked=obj.blocked).pk

    def delete_model(self, request, obj) -> None:
        services.block_remove(blocker=obj.blocker, blocked=obj.blocked)


@admin.register(SuggestionDismissal)
class SuggestionDismissalAdmin(ReadOnlyModelAdmin):
    """Read-only: a dismissal is the user's own choice, and changing it here would bypass its event."""

    list_display = ["user", "dismissed", "created_at"]
    search_fields = ["user__username", "dismissed__username"]
    raw_id_fields = ["user", "dismissed"]
    list_select_related = ["user", "dismissed"]


from .shares import admin as shares_admin  # noqa: E402,F401 - registers ShareAdmin
