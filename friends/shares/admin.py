"""Admin for shares: read-only; deleting goes through the service (event, files removed after commit)."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from socialsite.errors import ServiceError

from ..models import Share
from . import services


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "short_caption", "original_name", "content_type", "size", "state", "created_at"]
    list_filter = ["state", "content_type"]
    search_fields = ["owner__username", "caption", "original_name", "url"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    fields = [
        "owner",
        "caption",
        "url",
        "original_name",
        "content_type",
        "size",
        "checksum",
        "state",
        "failure_reason",
        "task_link",
        "stored_file",
        "thumbnail",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="caption")
    def short_caption(self, share: Share) -> str:
        return share.caption[:60]

    @admin.display(description="processing task")
    def task_link(self, share: Share) -> str:
        if not share.processing_task_id:
            return "-"
        url = reverse("admin:socialsite_taskrecord_change", args=[share.processing_task_id])
        return format_html('<a href="{}">{}</a>', url, share.processing_task_id)

    @admin.display(description="stored as")
    def stored_file(self, share: Share) -> str:
        return share.file.name or "-"

    # Shares are made by their owners; admins look and delete.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def _delete(self, request, share: Share) -> None:
        try:
            services.share_delete(share_id=share.pk, user=share.owner)
        except ServiceError as exc:
            self.message_user(request, f"Share {share.pk}: {exc.message}", messages.ERROR)

    def delete_model(self, request, obj: Share) -> None:
        self._delete(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for share in queryset.select_related("owner"):
            self._delete(request, share)
