"""Writing the access log (the receiver of `rcu.hooks.personal_data_read`) and purging it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from gdpr.access_purposes import purpose_describe
from gdpr.models import AccessLogEntry
from rcu.actors import SystemActor
from rcu.db import chunks

INSERT_CHUNK = 5000


def access_log_record(
    *, user: Any, customers: Iterable[Any], purpose: str,
    reference: str = "", subject_request_id: int | None = None,
    what: str = "", channel: str = "",
) -> int:
    """Log that `user` read these customers' personal data: one row per customer, bulk
    inserted in chunks (a bulk export logs every customer it wrote).

    `customers`: Customer rows or public ids. `user`: a person, or a `SystemActor` for
    RCU's own reads (a command run without `--user`: the job names it). `what` and
    `channel` default to what the purpose code says (`gdpr.access_purposes`). With no
    customer but a `reference` (the rejected rows of an import), one row records what
    was read. Returns the rows written.
    """
    described = purpose_describe(purpose)
    with translation.override("en"):  # stored in one language; shown translated by code
        what = what or str(described.what)
    common: dict[str, Any] = {
        "purpose": purpose[:50], "what": what[:100], "channel": channel or described.channel,
        "reference": reference[:200], "subject_request_id": subject_request_id,
    }
    if isinstance(user, SystemActor):
        common["actor"] = user.job[:100]
        common["user_id"] = user.started_by_id
    else:
        common["user"] = user
    public_ids = _public_ids(customers)
    if not public_ids:
        if not reference:
            return 0
        AccessLogEntry.objects.create(customer_public_id=None, **common)
        return 1
    written = 0
    for chunk in chunks(public_ids, INSERT_CHUNK):
        AccessLogEntry.objects.bulk_create(
            [AccessLogEntry(customer_public_id=public_id, **common) for public_id in chunk]
        )
        written += len(chunk)
    return written


def _public_ids(customers: Iterable[Any]) -> list[Any]:
    """Each customer once, in order (a page may show one customer twice)."""
    seen: dict[Any, None] = {}
    for customer in customers:
        public_id = getattr(customer, "public_id", customer)
        if public_id is not None:
            seen.setdefault(public_id, None)
    return list(seen)


def access_log_purge(
    *, older_than: timedelta | None = None, chunk: int = 10_000, now: datetime | None = None,
    limit: int | None = None,
) -> int:
    """Delete the entries older than the retention (RCU_ACCESS_LOG_RETENTION_DAYS), one
    chunk per transaction; safe to run again. With `limit`, one chunk of at most that
    many and return (the nightly purge counts each chunk). The only code that deletes
    entries."""
    older_than = older_than or timedelta(days=settings.RCU_ACCESS_LOG_RETENTION_DAYS)
    cutoff = (now or timezone.now()) - older_than
    size = limit or chunk
    deleted = 0
    while True:
        ids = list(
            AccessLogEntry.objects.filter(at__lt=cutoff).order_by("at", "id")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += AccessLogEntry.objects.filter(pk__in=ids).delete()[0]
        if limit:
            return deleted


def access_log_person_search(*, user: Any, text: str, purpose: str) -> tuple[list, frozenset | None]:
    """The people a DPO's search by person names, and every public id the log may name
    them by (None: no person searched). Reading who they are is itself logged. A public
    id that no customer has any more (erased) is searched as it is."""
    from gdpr.selectors.access_log import access_log_people_find

    text = text.strip()
    if not text:
        return [], None
    people = access_log_people_find(user=user, text=text)
    access_log_record(user=user, customers=[p.customer for p in people], purpose=purpose)
    public_ids: frozenset = frozenset().union(*(p.public_ids for p in people))
    if not people:
        with contextlib.suppress(ValueError):
            public_ids = frozenset({uuid.UUID(text)})
    return people, public_ids
