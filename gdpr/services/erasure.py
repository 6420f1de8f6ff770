"""What the GDPR app holds of an erased person (`rcu.hooks.person_erasing`).

The access log is the CNIL's trace of who read whose data: its entries are kept (who,
when, why) but the erased person's public id is replaced by a keyed pseudonym
(`rcu.models.public_id_pseudonym`): the log still shows that someone read "this
erased person" N times, nothing reversible without the key held outside the database.
A request's scope names the customers it concerned the same way.
"""

from __future__ import annotations

from typing import Any

from gdpr.models import AccessLogEntry, ScopeItem
from rcu.hooks import ErasureCount
from rcu.models import public_id_pseudonym

COVERAGE = {
    "gdpr.AccessLogEntry": "kept; the public id replaced by its keyed pseudonym",
    "gdpr.ScopeItem": "kept; the public id replaced by its keyed pseudonym, links set null",
}


def person_erasing_gdpr(
    *, customer_ids: list[int], record_ids: list[int], public_ids: list[str],
    values: frozenset[str], acting_user: Any, preview: bool = False,
) -> list[ErasureCount]:
    counts: list[ErasureCount] = []
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
