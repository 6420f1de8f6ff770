"""What the register says about the sources holding a person's data: the processing
activities an access pack lists (art. 15(1): purposes, recipients, retention…)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q

from gdpr.models import ProcessingActivity


@dataclass(frozen=True)
class ProcessingEntry:
    name: str
    purpose: str
    legal_basis: str  # the art. 6(1) code: consent, contract, legal_obligation…
    retention: str
    recipients: str
    transfers: str  # transfers outside the EU and their safeguards; empty when none


def processing_for_sources(source_ids: Iterable[int]) -> list[ProcessingEntry]:
    """The active activities concerning any of these sources, or every source (an
    activity with no source listed applies to all), by name. Two queries at most."""
    ids = sorted(set(source_ids))
    activities = (
        ProcessingActivity.objects.filter(active=True)
        .annotate(source_count=Count("sources"))
        .filter(Q(source_count=0) | Q(pk__in=ProcessingActivity.sources.through.objects.filter(
            sourcesystem_id__in=ids).values("processingactivity_id")))
        .order_by("name")
    )
    return [
        ProcessingEntry(
            name=a.name, purpose=a.purpose, legal_basis=a.legal_basis, retention=a.retention,
            recipients=a.recipients,
            transfers="\n".join(t for t in (a.transfers_outside_eu, a.transfer_safeguards) if t),
        )
        for a in activities
    ]
