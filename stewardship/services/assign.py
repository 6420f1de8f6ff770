"""Giving candidates to a steward: a queue's work shared out, unlike a lease it does
not expire and does not stop anyone else from deciding."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rcu.services.changes import rows_update
from rcu.services.locks import candidates_lock_only
from stewardship.models import MergeCandidate
from stewardship.selectors.access import candidates_decidable_by
from stewardship.services.errors import DecisionForbidden, DecisionInvalid

ADMINISTER = "rcu.change_department"


@transaction.atomic
def candidates_assign(*, candidate_ids: Iterable[int], assignee, acting_user) -> int:
    """Assign open candidates to `assignee` (None: unassign); returns how many changed.

    The person assigning decides these candidates or administers departments; the
    assignee must be able to decide every one of them. Only candidates lock: like a
    lease, an assignment changes no customer data.
    """
    ids = sorted(set(candidate_ids))
    if not ids:
        return 0
    if acting_user.has_perm(ADMINISTER):
        allowed: QuerySet[MergeCandidate] = MergeCandidate.objects.filter(pk__in=ids)
    else:
        allowed = candidates_decidable_by(acting_user).filter(pk__in=ids)
    if allowed.count() != len(ids):
        raise DecisionForbidden(_("You may not assign some of these candidates."))
    if assignee is not None:
        if not assignee.is_active:
            raise DecisionInvalid(_("This account is deactivated."))
        if candidates_decidable_by(assignee).filter(pk__in=ids).count() != len(ids):
            raise DecisionInvalid(
                _("This steward does not work the queue of every candidate chosen.")
            )
    candidates_lock_only(ids)
    wanted = assignee.pk if assignee is not None else None
    changing = list(
        MergeCandidate.objects.filter(pk__in=ids, status=MergeCandidate.Status.OPEN)
        .exclude(assigned_to_id=wanted).values_list("pk", flat=True)
    )
    rows_update(
        model=MergeCandidate, fields=["assigned_to_id"],
        values={pk: {"assigned_to_id": wanted} for pk in changing},
        now=timezone.now(), acting_user=acting_user,
        reason="assigned" if assignee is not None else "unassigned",
    )
    return len(changing)
