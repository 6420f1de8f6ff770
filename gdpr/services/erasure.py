"""What the GDPR app holds of an erased person (`rcu.hooks.person_erasing`).

The access log is the CNIL's trace of who read whose data: its entries are kept (who,
when, why) but the erased person's public id is replaced by a keyed pseudonym
(`rcu.models.public_id_pseudonym`): the log still shows that someone read "this
erased person" N times, nothing reversible without the key held outside the database.
A request's scope names the customers it concerned the same way. The access and
portability packs built for a request whose scope held the person are deleted (their
rows stay, saying when, as after their expiry).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from gdpr.models import AccessLogEntry, AccessPack, ScopeItem
from rcu.hooks import ErasureCount
from rcu.models import public_id_pseudonym

COVERAGE = {
    "gdpr.AccessLogEntry": "kept; the public id replaced by its keyed pseudonym",
    "gdpr.ScopeItem": "kept; the public id replaced by its keyed pseudonym, links set null",
    "gdpr.RequestLegalHold": "nothing to erase: a source, attributes, a legal basis, dates",
    "gdpr.ErasureApproval": "nothing to erase: counts, event ids and staff",
    "gdpr.ErasureAcknowledgement": "nothing to erase: systems, dates, staff and notes",
    "gdpr.AccessPack": "the files of packs whose request's scope held the person deleted",
    # The register describes processing activities, never a person.
    "gdpr.ProcessingActivity": "nothing to erase: no personal data of customers",
    "gdpr.HistoricalProcessingActivity": "nothing to erase: no personal data of customers",
    "gdpr.HistoricalProcessingActivity_sources": "nothing to erase: activities and sources",
    # A reminder names a request, a threshold and dates: nothing of the person.
    "gdpr.DeadlineReminder": "nothing to erase: a request's deadline reminders (no personal data)",
}


def person_erasing_gdpr(
    *, customer_ids: list[int], record_ids: list[int], public_ids: list[str],
    values: frozenset[str], acting_user: Any, preview: bool = False,
) -> list[ErasureCount]:
    counts: list[ErasureCount] = []
    requests = ScopeItem.objects.filter(
        Q(customer_id__in=customer_ids) | Q(record_id__in=record_ids) | Q(customer_public_id__in=public_ids)
    ).values_list("request_id", flat=True)
    packs = 0
    for pack in AccessPack.objects.filter(request_id__in=list(requests), deleted_at__isnull=True):
        if not preview and pack.file:
            pack.file.delete(save=False)
        pack.deleted_at = timezone.now()
        pack.save(update_fields=["file", "deleted_at"])
        packs += 1
    if packs:
        counts.append(ErasureCount("file:gdpr_pack", "deleted", packs))
    log = scope = 0
    for public_id in public_ids:
        pseudonym = public_id_pseudonym(public_id)
        log += AccessLogEntry.objects.filter(customer_public_id=public_id).update(customer_public_id=pseudonym)
        scope += ScopeItem.objects.filter(customer_public_id=public_id).update(customer_public_id=pseudonym)
    if log:
        counts.append(ErasureCount("gdpr.AccessLogEntry", "scrubbed", log))
    if scope:
        counts.append(ErasureCount("gdpr.ScopeItem", "scrubbed", scope))
    return counts
