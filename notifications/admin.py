"""Admin for notifications: browse, search, mark read. Notifications are made by subscribers, never by hand."""

from django.contrib import admin

from . import services
from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "actor", "kind", "text", "target_label", "created_at", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient__username", "actor__username", "text"]
    list_select_related = ["recipient", "actor"]
    raw_id_fields = ["recipient", "actor", "share", "friend_request"]
    readonly_fields = [
        "recipient",
        "actor",
        "kind",
        "text",
        "url",
        "share",
        "friend_request",
        "event_id",
        "created_at",
        "read_at",
    ]
    date_hierarchy = "created_at"
    show_full_result_count = False  # the table is large (one row per friend per share): no second COUNT(*)
    actions = ["mark_read"]

    def has_add_permission(self, request) -> bool:
        return False  # made from domain events by the subscribers only

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="target")
    def target_label(self, obj: Notification) -> str:
        target = obj.target
        return f"{target['type']} {target['id']}" if target else "—"

    @admin.action(description="Mark as read")
    def mark_read(self, request, queryset) -> None:
        count = services.notifications_mark_read_any(notification_ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"Marked {count} notification(s) read.")
