"""Admin for the plumbing: the outbox, task records and dead letters (failed tasks) with re-enqueue.

Outbox rows are read-only and cannot be deleted: a deleted pending row is a lost event. Only dead
letters can be re-enqueued (through `taskstatus.dead_letter_requeue`, which refuses anything else).
"""

from django.contrib import admin, messages
from django_dramatiq.models import Task as DramatiqTask
from dramatiq.errors import BrokerError

from . import events, taskstatus
from .errors import ServiceError
from .models import DeadLetter, OutboxEvent, TaskRecord


class PendingFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", "Pending"), ("no", "Published")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(published_at__isnull=self.value() == "yes")
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at", "published_at", "attempts", "last_error"]
    list_filter = [PendingFilter, "name"]
    search_fields = ["id", "name"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["publish_now"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Publish pending events now")
    def publish_now(self, request, queryset) -> None:
        count = events.publish_events(queryset.values_list("id", flat=True))
        self.message_user(request, f"Published {count} event(s).")


class TaskRecordAdmin(admin.ModelAdmin):
    list_display = [
        "actor_name",
        "id",
        "queue_name",
        "state",
        "progress",
        "retries",
        "owner",
        "enqueued_at",
        "finished_at",
    ]
    list_filter = ["state", "queue_name", "actor_name"]
    search_fields = ["id", "actor_name"]
    readonly_fields = [f.name for f in TaskRecord._meta.fields]
    list_select_related = ["owner"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="progress")
    def progress(self, obj: TaskRecord) -> str:
        return f"{obj.progress_done}/{obj.progress_total}" if obj.progress_total else ""


admin.site.register(TaskRecord, TaskRecordAdmin)


@admin.register(DeadLetter)
class DeadLetterAdmin(TaskRecordAdmin):
    list_display = ["actor_name", "id", "queue_name", "retries", "short_error", "finished_at"]
    actions = ["requeue"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(state=TaskRecord.State.FAILED)

    @admin.display(description="error")
    def short_error(self, obj: TaskRecord) -> str:
        return obj.error[:200]

    @admin.action(description="Re-enqueue (run again)")
    def requeue(self, request, queryset) -> None:
        count = 0
        for record in queryset:
            try:
                taskstatus.dead_letter_requeue(record_id=record.id)
                count += 1
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            except BrokerError as exc:
                self.message_user(request, f"{record.id}: broker unavailable ({exc!r})", messages.ERROR)
        self.message_user(request, f"Re-enqueued {count} task(s).")


# django_dramatiq provides `rundramatiq`; its own Task table stays empty because task state is kept by
# TaskStatusMiddleware (owner, progress, dead letters), so its admin page would only mislead.
if admin.site.is_registered(DramatiqTask):
    admin.site.unregister(DramatiqTask)
