"""Reading file audits: the right to audit a source's files is the right to import them.

A report shows values of a file that is not loaded yet: who may send that file into
the source (a role, or the source's department) sees its audits; nobody else.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from rcu.models import ImportAudit, SourceSystem
from rcu.selectors.sources import INGEST, source_get_for_user


def import_audits_of_source(source: SourceSystem) -> QuerySet[ImportAudit]:
    """The source's audits, newest first (index `importaudit_source_idx`); the report
    itself is left out of the rows: lists do not show it."""
    return (
        ImportAudit.objects.filter(source=source)
        .select_related("created_by")
        .defer("report")
        .order_by("-created_at", "-id")
    )


def import_audit_source_for_user(*, user, code: str) -> SourceSystem:
    """The source if `user` may audit its files: 404 when they may not see it, 403 when
    they see it but may not import into it."""
    return source_get_for_user(user=user, code=code, perm=INGEST)


def import_audit_get_for_user(*, user, code: str, pk: int) -> ImportAudit:
    source = import_audit_source_for_user(user=user, code=code)
    audit = ImportAudit.objects.select_related("source", "created_by").filter(
        source=source, pk=pk
    ).first()
    if audit is None:
        raise Http404("No such audit")
    return audit
