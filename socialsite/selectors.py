"""Reads of the plumbing's records."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import TaskRecord


def task_records_of(*, user: AbstractBaseUser) -> QuerySet[TaskRecord]:
    """Tasks the user may see: their own. Admins use Django admin."""
    return TaskRecord.objects.filter(owner_id=user.pk)
