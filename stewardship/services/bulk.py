"""Bulk decisions: merge or reject many obvious candidates with one confirmation.

Each candidate is decided on its own, exactly as if the steward had opened it (the same
service, the same locks and checks), in its own transaction, and gets its own decision
in the ledger, undone one by one like any other. A candidate that cannot be decided
(not the steward's, held by another, decided meanwhile, closed by an earlier merge of
the same batch) is left as it is and reported; the others go ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rcu.services.changes import Actor
from stewardship.models import Decision
from stewardship.selectors.access import candidates_decidable_by
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from stewardship.services.merge import candidate_merge
from stewardship.services.reject import candidate_reject

BULK_MAX = 100  # candidates per request: a larger batch is refused, not cut


class BulkAction(models.TextChoices):
    MERGE = "merge", gettext_lazy("Merge")
    REJECT = "reject", gettext_lazy("Reject")


@dataclass(frozen=True)
class BulkRefusal:
    candidate: int
    code: str  # "forbidden" (not the steward's), "conflict" (state changed), "invalid"
    detail: str


@dataclass(frozen=True)
class BulkOutcome:
    decisions: list[Decision] = field(default_factory=list)
    refused: list[BulkRefusal] = field(default_factory=list)


def candidates_bulk_decide(
    *, candidate_ids: Iterable[int], action: str, acting_user: Actor, reason: str = "",
) -> BulkOutcome:
    """Merge (survivorship decides every value) or reject each of these candidates, in
    id order; no transaction around the whole: each decision stands on its own."""
    ids = sorted({int(pk) for pk in candidate_ids})
    if action not in BulkAction.values:
        raise DecisionInvalid(_("Unknown action %(action)s.") % {"action": action},
                              field="action")
    if not ids:
        raise DecisionInvalid(_("Choose at least one candidate."), field="candidates")
    if len(ids) > BULK_MAX:
        raise DecisionInvalid(
            _("At most %(max)d candidates at once; %(n)d were chosen.")
            % {"max": BULK_MAX, "n": len(ids)}, field="candidates",
        )
    decidable = set(
        candidates_decidable_by(acting_user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    outcome = BulkOutcome()
    for pk in ids:
        if pk not in decidable:
            outcome.refused.append(BulkRefusal(
                pk, "forbidden", _("You may not decide this candidate.")
            ))
            continue
        try:
            if action == BulkAction.MERGE:
                decision = candidate_merge(candidate_id=pk, acting_user=acting_user,
                                           reason=reason)
            else:
                decision = candidate_reject(candidate_id=pk, acting_user=acting_user,
                                            reason=reason)
        except DecisionConflict as error:
            outcome.refused.append(BulkRefusal(pk, "conflict", str(error)))
        except DecisionForbidden as error:
            outcome.refused.append(BulkRefusal(pk, "forbidden", str(error)))
        except DecisionInvalid as error:
            outcome.refused.append(BulkRefusal(pk, "invalid", str(error)))
        else:
            outcome.decisions.append(decision)
    return outcome
