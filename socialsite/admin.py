"""Admin for the plumbing: the outbox, task records and dead letters (failed tasks) with re-enqueue.

Outbox rows are read-only and cannot be deleted: a deleted pending row is a lost event. Only dead
letters can be re-enqueued (through `taskstatus.dead_letter_requeue`, which refuses anything else).

Also the regular jobs (schedule, last and next run, run now) and the site counters' history.
"""

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_dramatiq.models import Task as DramatiqTask
from dramatiq.errors import BrokerError

from . import events, schedule, selectors, taskstatus
from .errors import ServiceError
from .models import DeadLetter, OutboxEvent, ScheduledJob, SiteCounters, TaskRecord
from .service_admin import ReadOnlyModelAdmin


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
class OutboxEventAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "id", "created_at", "published_at", "attempts", "last_error"]
    list_filter = [PendingFilter, "name"]
    search_fields = ["id", "name"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["publish_now"]

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


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    """The operator's view of the regular jobs: one row per job in `SOCIALSITE_SCHEDULES` (not a list of
    records), with its schedule, next run, last run and a "run now" button.

    Viewing needs the "view scheduled job" permission; running one needs "change scheduled job".
    """

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        run = self.admin_site.admin_view(require_POST(self.run_now_view))
        return [path("<str:name>/run/", run, name="socialsite_scheduledjob_run"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            return redirect("admin:index")
        now = timezone.now()
        try:
            jobs = schedule.scheduled_jobs()
        except schedule.ScheduleError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            jobs = []
        last = selectors.last_runs_of(actor_names=[job.name for job in jobs])
        rows = []
        for job in jobs:
            record = last.get(job.name)
            duration = None
            if record and record.started_at and record.finished_at:
                duration = (record.finished_at - record.started_at).total_seconds()
            rows.append(
                {
                    "job": job,
                    "queue": job.actor.queue_name,
                    "next_run": job.next_run(now),
                    "last": record,
                    "duration": duration,
                    "result": "" if record is None or record.result is None else _short(record.result),
                    "error": record.error.strip().splitlines()[-1][:200] if record and record.error else "",
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Scheduled jobs",
            "opts": self.model._meta,
            "rows": rows,
            "now": now,
            "time_zone": timezone.get_current_timezone_name(),
            "scheduler_running": schedule.scheduler_is_running(),
            "can_run": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/socialsite/scheduledjob/jobs.html", context)

    def run_now_view(self, request: HttpRequest, name: str) -> HttpResponse:
        if not self.has_change_permission(request):
            self.message_user(request, "You may not run scheduled jobs.", messages.ERROR)
            return redirect("admin:socialsite_scheduledjob_changelist")
        try:
            message = schedule.scheduled_job_run_now(name=name, owner_id=request.user.pk)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                format_html(
                    'Enqueued {} (task {}): <a href="{}">task status</a> · <a href="{}">task record</a>.',
                    name,
                    message.message_id,
                    reverse("task-detail", args=[message.message_id]),
                    reverse("admin:socialsite_taskrecord_change", args=[message.message_id]),
                ),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:socialsite_scheduledjob_changelist"))


def _short(value, limit: int = 300) -> str:
    import json

    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


@admin.register(SiteCounters)
class SiteCountersAdmin(admin.ModelAdmin):
    list_display = ["computed_at", *SiteCounters.COUNTERS, "duration_ms"]
    date_hierarchy = "computed_at"
    readonly_fields = [f.name for f in SiteCounters._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # rows come from update_site_counters ("run now" on the scheduled jobs page)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# django_dramatiq provides `rundramatiq`; its own Task table stays empty because task state is kept by
# TaskStatusMiddleware (owner, progress, dead letters), so its admin page would only mislead.
if admin.site.is_registered(DramatiqTask):
    admin.site.unregister(DramatiqTask)
