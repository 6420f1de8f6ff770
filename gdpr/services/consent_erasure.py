"""The consents and objections of an erased person (`rcu.hooks.person_erasing`).

Nothing of them is kept: the statements (those of the person's records, those stated on
the person's customers, and the copies of their "no"s), the consents in force and the
objections are deleted, before the customers and records go. The purposes are a list
of reasons to contact people, never a person. A customer that is kept but loses an
erased record (another person's, wrongly merged) has its consents recomputed from the
statements it still holds, and its subscribers told when a yes or no changed; the
erasure has locked it (`rcu.services.erasure`: customers losing records).
"""

from __future__ import annotations

from django.db.models import Q

from gdpr.models import Consent, ConsentStatement, Objection
from gdpr.services.consents import consents_projection, consents_refresh
from rcu.hooks import ErasureCount
from rcu.services.changes import Actor

COVERAGE = {
    "gdpr.ConsentStatement": "deleted (the person's records' statements and those stated on them)",
    "gdpr.Consent": "deleted",
    "gdpr.Objection": "deleted",
    "gdpr.ConsentPurpose": "nothing to erase: the purposes people are contacted for, no person",
}


def person_erasing_consents(
    *, customer_ids: list[int], record_ids: list[int], public_ids: list[str],
    values: frozenset[str], acting_user: Actor, preview: bool = False,
) -> list[ErasureCount]:
    statements = ConsentStatement.objects.filter(
        Q(record_id__in=record_ids) | Q(stated_on_id__in=customer_ids) | Q(holder_id__in=customer_ids)
    )
    consents = Consent.objects.filter(customer_id__in=customer_ids)
    objections = Objection.objects.filter(Q(stated_on_id__in=customer_ids) | Q(holder_id__in=customer_ids))
    counts = [
        ("gdpr.Consent", consents.count()),
        ("gdpr.ConsentStatement", statements.count()),
        ("gdpr.Objection", objections.count()),
    ]
    if not preview:
        kept = sorted(
            set(ConsentStatement.objects.filter(record_id__in=record_ids, holder__isnull=False)
                .exclude(holder_id__in=customer_ids).values_list("holder_id", flat=True))
        )
        before = consents_projection(customer_ids=kept)
        consents.delete()
        # Copies of a "no" stated on someone else's customer (an erased survivor's family)
        # go with their original: CASCADE on copy_of.
        statements.delete()
        objections.delete()
        consents_refresh(customer_ids=kept, acting_user=acting_user, before=before)
    return [ErasureCount(store, "deleted", n) for store, n in counts if n]
