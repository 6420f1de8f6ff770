from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from rcu.models import ImportJob
from rcu.selectors.sources import sources_for_user

VIEW_ALL = "rcu.view_importjob"
# Admins cancel jobs (the right to change one); stewards only follow their own.
CANCEL = "rcu.change_importjob"


def import_jobs_visible_to(user) -> QuerySet[ImportJob]:
    if not user.is_authenticated:
        return ImportJob.objects.none()
    jobs = ImportJob.objects.select_related("source", "created_by")
    if user.has_perm(VIEW_ALL):
        return jobs
    return jobs.filter(source__in=sources_for_user(user))


def import_job_get_for_user(*, user, pk: int, cancel: bool = False) -> ImportJob:
    """The job if `user` may see it (404 otherwise), and may cancel it when `cancel`
    (403 otherwise)."""
    job = import_jobs_visible_to(user).filter(pk=pk).first()
    if job is None:
        raise Http404("No such import job")
    if cancel and not user.has_perm(CANCEL):
        raise PermissionDenied
    return job
