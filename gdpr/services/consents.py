"""Consents per purpose and channel, and objections (art. 21): every write.

Statements are appended, never changed: what changes is which active customer each
counts for (`holder`) and the state in force derived from them (`Consent`), recomputed
by `consents_refresh` with the one rule (`gdpr.consent_rules`). Sources of statements:

- an import or the ingest API (`records_statements_record`, on `rcu.hooks.records_statements`):
  each yes/no column of a record, anchored to the record; a record saying again what
  it said last writes nothing;
- the API or the customer page (`consent_record`): stated on the customer;
- an objection (`objection_record`): every marketing purpose withdrawn on every channel.

Records moving between customers and customers retired or restored (a merge, an
unmerge, matching) reach `customers_regrouped_follow` through `rcu.hooks.customers_regrouped`:
a record's statements follow the record; a statement stated on a customer counts for
that customer, or for the survivor it is merged into. An unmerge therefore restores each
side's consents. A "no" stated on a customer that others were merged into is copied onto
each of them (`copy_of`): split again, no side turns that "no" into a "yes". A "yes"
stays with the customer it was stated on (the survivor): a person's yes is never lent
to someone a wrong merge had taken them for.

Changes of the consents in force of a customer are told to subscribers as
`customer.updated` events carrying ``consents`` (`rcu.services.changes.customers_projection_changed`).
Callers hold the customers' locks (the core's writers; `consent_record` and the
objection services lock the customer first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gdpr.consent_rules import StatementView, consents_in_force
from gdpr.models import (
    Channel,
    Consent,
    ConsentPurpose,
    ConsentStatement,
    Objection,
    RequestKind,
    StatementOrigin,
    SubjectRequest,
)
from rcu.actors import SystemActor
from rcu.db import chunks, column_set
from rcu.ingestion.statements import Statement
from rcu.models import Customer, SourceRecord
from rcu.services.changes import Actor, actor_user, customers_projection_changed
from rcu.services.locks import customers_lock, retrying

TARGET_PREFIX = "consent"
Key = tuple[int, str]  # (purpose id, channel)


class ConsentRefused(ValueError):
    """A statement or objection refused: `field` names what is wrong (the API's 400/409)."""

    def __init__(self, message: str, *, field: str = "", conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


def target_code(purpose_code: str, channel: str) -> str:
    return f"{TARGET_PREFIX}:{purpose_code}:{channel}"


def statement_targets() -> dict[str, str]:
    """The yes/no targets a field mapping may name (`rcu.hooks.statement_targets`)."""
    return {
        target_code(code, channel.value): _("Consent: %(purpose)s by %(channel)s")
        % {"purpose": label, "channel": channel.label}
        for code, label in ConsentPurpose.objects.filter(active=True).values_list("code", "label")
        for channel in Channel
    }


def _actor(acting_user: Actor) -> dict[str, Any]:
    job = acting_user.job[:100] if isinstance(acting_user, SystemActor) else ""
    return {"recorded_by": actor_user(acting_user), "actor_job": job}


# --- who holds what ------------------------------------------------------------------

def active_of(customer_ids: Iterable[int]) -> dict[int, int]:
    """Each customer's active customer (itself, or the survivor it was merged into)."""
    parent: dict[int, int | None] = {}
    pending = set(customer_ids)
    while pending:
        found = dict(Customer.objects.filter(pk__in=pending).values_list("pk", "merged_into_id"))
        parent.update(found)
        pending = {p for p in found.values() if p is not None and p not in parent}
    roots: dict[int, int] = {}
    for pk in parent:
        node, seen = pk, set()
        while parent.get(node) is not None and node not in seen:
            seen.add(node)
            node = parent[node]  # type: ignore[assignment]  # not None: checked above
        roots[pk] = node
    return roots


def family_of(customer_ids: Iterable[int]) -> set[int]:
    """These customers and every customer merged into them, however long ago."""
    family = set(customer_ids)
    frontier = set(family)
    while frontier:
        found: set[int] = set()
        for chunk in chunks(sorted(frontier)):
            found.update(Customer.objects.filter(merged_into_id__in=chunk).values_list("pk", flat=True))
        frontier = found - family
        family |= frontier
    return family


def _purpose_codes() -> dict[int, str]:
    return dict(ConsentPurpose.objects.values_list("pk", "code"))


def projection_of(consents: Mapping[Key, bool], codes: Mapping[int, str]) -> dict[str, dict[str, bool]]:
    """The consents as events and packs carry them: purpose code → channel → granted."""
    projected: dict[str, dict[str, bool]] = {}
    for (purpose_id, channel), granted in sorted(consents.items()):
        projected.setdefault(codes[purpose_id], {})[channel] = granted
    return projected


def consents_refresh(
    *, customer_ids: Iterable[int], acting_user: Actor, before: Mapping[int, dict[str, Any]] | None = None,
) -> set[int]:
    """Recompute the consents in force of these customers from the statements they hold;
    the active customers whose projection (`consents_projection`: yes or no, objections
    counted) changed, told to subscribers. `before`: their projection read before the
    caller changed an objection (by default, read now)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return set()
    if before is None:
        before = consents_projection(customer_ids=ids)
    for chunk in chunks(ids):
        held: dict[int, list[StatementView[Key]]] = defaultdict(list)
        for pk, holder, purpose_id, channel, granted, stated_at in ConsentStatement.objects.filter(
            holder_id__in=chunk
        ).values_list("pk", "holder_id", "purpose_id", "channel", "granted", "stated_at"):
            held[holder].append(StatementView((purpose_id, channel), granted, stated_at, pk))
        current: dict[int, dict[Key, tuple[int, bool, int]]] = defaultdict(dict)
        for pk, customer, purpose_id, channel, granted, statement in Consent.objects.filter(
            customer_id__in=chunk
        ).values_list("pk", "customer_id", "purpose_id", "channel", "granted", "statement_id"):
            current[customer][(purpose_id, channel)] = (pk, granted, statement)
        stale: list[int] = []
        new: list[Consent] = []
        for customer in chunk:
            wanted = consents_in_force(held.get(customer, []))
            now = current.get(customer, {})
            if {k: (s.granted, s.id) for k, s in wanted.items()} == {k: (g, s) for k, (_pk, g, s) in now.items()}:
                continue
            stale += [pk for pk, _g, _s in now.values()]
            new += [Consent(customer_id=customer, purpose_id=k[0], channel=k[1], granted=s.granted,
                            stated_at=s.stated_at, statement_id=s.id) for k, s in wanted.items()]
        if stale:
            Consent.objects.filter(pk__in=stale).delete()
        if new:
            Consent.objects.bulk_create(new, batch_size=2000)
    after = consents_projection(customer_ids=ids)
    # Told to subscribers only when a yes or no they see changed, not merely its proof.
    differ = {pk for pk in ids if before.get(pk) != after.get(pk)}
    active: set[int] = set()
    for chunk in chunks(sorted(differ)):
        active.update(Customer.objects.filter(pk__in=chunk, merged_into__isnull=True).values_list("pk", flat=True))
    if active:
        customers_projection_changed(
            changes={pk: after.get(pk, {"consents": {}}) for pk in active}, acting_user=acting_user,
        )
    return active


def consents_projection(*, customer_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """`rcu.hooks.customer_projection`: each customer's consents as subscribers may act on
    them: those in force, except that an objecting person's direct-marketing purposes are
    all "no" (even after a later yes from a source), until the objection is lifted. The
    purposes and objections are read only for customers holding consents: most writes
    (an import's, a merge's) touch none."""
    found: dict[int, dict[Key, bool]] = defaultdict(dict)
    for chunk in chunks(sorted(set(customer_ids))):
        for customer, purpose_id, channel, granted in Consent.objects.filter(
            customer_id__in=chunk
        ).values_list("customer_id", "purpose_id", "channel", "granted"):
            found[customer][(purpose_id, channel)] = granted
    if not found:
        return {}
    codes: dict[int, str] = {}
    marketing: set[int] = set()
    for pk, code, is_marketing in ConsentPurpose.objects.values_list("pk", "code", "marketing"):
        codes[pk] = code
        if is_marketing:
            marketing.add(pk)
    for chunk in chunks(sorted(found)):
        for customer in Objection.objects.filter(holder_id__in=chunk, lifted_at__isnull=True).values_list(
            "holder_id", flat=True
        ):
            for key in found[customer]:
                if key[0] in marketing:
                    found[customer][key] = False
    return {pk: {"consents": projection_of(consents, codes)} for pk, consents in found.items()}


# --- statements from sources -----------------------------------------------------------

def records_statements_record(
    *, source_id: int, statements: Mapping[int, tuple[Statement, ...]], acting_user: Actor
) -> int:
    """`rcu.hooks.records_statements`: the consents an import or the ingest API states,
    anchored to their records. A record stating again what it said last (same answer,
    and no new date) writes nothing. Without a date column, a statement is dated by the
    record's business timestamp, else now. Returns how many statements were written."""
    purposes = dict(ConsentPurpose.objects.filter(active=True).values_list("code", "pk"))
    wanted: dict[tuple[int, int, str], Statement] = {}
    for record_id, said in statements.items():
        for statement in said:
            kind, _sep, rest = statement.target.partition(":")
            purpose_code, _sep, channel = rest.partition(":")
            if kind != TARGET_PREFIX or purpose_code not in purposes or channel not in Channel.values:
                continue  # a target no longer declared (purpose retired since the mapping)
            wanted[(record_id, purposes[purpose_code], channel)] = statement
    if not wanted:
        return 0
    record_ids = sorted({k[0] for k in wanted})
    records = {pk: (customer, ts) for pk, customer, ts in SourceRecord.objects.filter(
        pk__in=record_ids).values_list("pk", "customer_id", "business_ts")}
    last: dict[tuple[int, int, str], tuple[bool, datetime]] = {}
    for record, purpose_id, channel, granted, stated_at in ConsentStatement.objects.filter(
        record_id__in=record_ids
    ).order_by("pk").values_list("record_id", "purpose_id", "channel", "granted", "stated_at"):
        last[(record, purpose_id, channel)] = (granted, stated_at)
    now = timezone.now()
    actor = _actor(acting_user)
    rows = []
    for key, statement in wanted.items():
        before = last.get(key)
        if before is not None and before[0] == statement.granted and (
            statement.stated_at is None or statement.stated_at == before[1]
        ):
            continue
        customer, business_ts = records[key[0]]
        rows.append(ConsentStatement(
            purpose_id=key[1], channel=key[2], granted=statement.granted,
            stated_at=statement.stated_at or business_ts or now, origin=StatementOrigin.SOURCE,
            record_id=key[0], holder_id=customer, **actor,
        ))
    ConsentStatement.objects.bulk_create(rows, batch_size=2000)
    consents_refresh(customer_ids={r.holder_id for r in rows if r.holder_id}, acting_user=acting_user)
    return len(rows)


# --- following records and merges ------------------------------------------------------

def customers_regrouped_follow(*, record_ids: list[int], customer_ids: list[int], acting_user: Actor) -> None:
    """`rcu.hooks.customers_regrouped`: statements and objections count for the active
    customer of their anchor again; the consents of every customer concerned recomputed.
    A base where nobody stated anything pays one indexed probe per kind of anchor; the
    moves cost the same queries for two customers or ten."""
    if record_ids and not ConsentStatement.objects.filter(record__isnull=False).exists():
        record_ids = []
    if customer_ids and not (ConsentStatement.objects.filter(stated_on__isnull=False).exists()
                             or Objection.objects.exists()):
        customer_ids = []
    affected: set[int] = set()
    moves: dict[int, int | None] = {}  # statement → the customer it counts for now
    objection_moves: dict[int, int] = {}  # objection → the customer it counts for now
    for chunk in chunks(record_ids):
        for pk, holder, owner in ConsentStatement.objects.filter(record_id__in=chunk).values_list(
            "pk", "holder_id", "record__customer_id"
        ):
            if holder != owner:
                moves[pk] = owner
                affected |= {c for c in (holder, owner) if c is not None}
    if customer_ids:
        stated: list[tuple[int, int, int | None]] = []
        objections: list[tuple[int, int, int]] = []
        for chunk in chunks(sorted(family_of(customer_ids))):
            stated += ConsentStatement.objects.filter(stated_on_id__in=chunk).values_list(
                "pk", "stated_on_id", "holder_id")
            objections += Objection.objects.filter(stated_on_id__in=chunk).values_list(
                "pk", "stated_on_id", "holder_id")
        roots = active_of({s for _pk, s, _h in [*stated, *objections]})
        for statement_id, stated_on, counted_for in stated:
            if roots[stated_on] != counted_for:
                moves[statement_id] = roots[stated_on]
                affected |= {c for c in (counted_for, roots[stated_on]) if c is not None}
        for objection_id, stated_on, counted_for in objections:
            if roots[stated_on] != counted_for:
                objection_moves[objection_id] = roots[stated_on]
                affected |= {counted_for, roots[stated_on]}
    # Read before the objections move: an objection moving changes what events show.
    before = consents_projection(customer_ids=affected)
    # One UPDATE per chunk of rows, however many customers an unmerge restores.
    column_set(Objection, "holder_id", objection_moves)
    column_set(ConsentStatement, "holder_id", moves)
    consents_refresh(customer_ids=affected, acting_user=acting_user, before=before)


# --- statements on a customer ----------------------------------------------------------

def _locked_actives(customer_ids: Iterable[int]) -> list[int]:
    """Lock the active customers of these (each, or the survivor it was merged into) at
    once, in id order; their distinct ids, ascending."""
    ids = sorted(set(active_of(customer_ids).values()))
    rows = customers_lock(ids, fields=("pk", "merged_into_id"))
    if any(rows[pk]["merged_into_id"] is not None for pk in ids):  # merged meanwhile: the caller tries again
        raise ConsentRefused(_("The customer was merged meanwhile: try again."), conflict=True)
    return ids


def _locked_active(customer: Customer) -> int:
    """Lock the customer (its survivor when it was merged away); its id."""
    (pk,) = _locked_actives([customer.pk])
    return pk


def _objecting(customer_ids: Iterable[int]) -> set[int]:
    """Those of these customers that hold an objection in force (not lifted). Read under
    their locks: an objection is recorded, lifted or moved only by their holders."""
    return set(Objection.objects.filter(holder_id__in=list(customer_ids), lifted_at__isnull=True)
               .values_list("holder_id", flat=True))


def _stated_on(customer_id: int, *, rows: list[ConsentStatement]) -> list[ConsentStatement]:
    """Write `rows` stated on this customer; each "no" also on every customer merged into it."""
    written = ConsentStatement.objects.bulk_create(rows)
    others = sorted(family_of([customer_id]) - {customer_id})
    copies = [
        ConsentStatement(
            purpose_id=row.purpose_id, channel=row.channel, granted=False, stated_at=row.stated_at,
            origin=row.origin, stated_on_id=other, holder_id=customer_id, wording=row.wording,
            request_id=row.request_id, recorded_by_id=row.recorded_by_id, actor_job=row.actor_job,
            copy_of=row,
        )
        for row in written if not row.granted for other in others
    ]
    ConsentStatement.objects.bulk_create(copies, batch_size=2000)
    return written


@retrying
@transaction.atomic
def consent_record(
    *, customer: Customer, purpose: ConsentPurpose, channel: str, granted: bool, acting_user: Actor,
    origin: str = StatementOrigin.API, wording: str = "", stated_at: datetime | None = None,
) -> ConsentStatement:
    """A person's yes or no for one purpose and channel, stated on their customer (the API
    or the customer page), with the wording they agreed to as proof."""
    if channel not in Channel.values:
        raise ConsentRefused(_("Unknown channel."), field="channel")
    if not purpose.active:
        raise ConsentRefused(_("This purpose is no longer in use."), field="purpose")
    now = timezone.now()
    if stated_at is not None and stated_at > now:
        raise ConsentRefused(_("A statement cannot be dated in the future."), field="stated_at")
    pk = _locked_active(customer)
    (statement,) = _stated_on(pk, rows=[ConsentStatement(
        purpose=purpose, channel=channel, granted=granted, stated_at=stated_at or now, origin=origin,
        stated_on_id=pk, holder_id=pk, wording=wording[:200], **_actor(acting_user),
    )])
    consents_refresh(customer_ids=[pk], acting_user=acting_user)
    return statement


# --- objections (art. 21) ----------------------------------------------------------------

def _objection_write(*, pk: int, reason: str, acting_user: Actor, request: SubjectRequest | None) -> Objection:
    """The objection on this customer, which the caller locked and checked holds none in
    force: every marketing consent withdrawn on every channel."""
    before = consents_projection(customer_ids=[pk])
    now = timezone.now()
    actor = _actor(acting_user)
    objection = Objection.objects.create(
        stated_on_id=pk, holder_id=pk, request=request, reason=reason.strip(),
        recorded_by=actor["recorded_by"],
    )
    wording = (_("Objection, request %(reference)s") % {"reference": request.reference}) if request \
        else _("Objection")
    _stated_on(pk, rows=[
        ConsentStatement(purpose_id=purpose_id, channel=channel, granted=False, stated_at=now,
                         origin=StatementOrigin.OBJECTION, stated_on_id=pk, holder_id=pk,
                         wording=wording[:200], request=request, **actor)
        for purpose_id in ConsentPurpose.objects.filter(marketing=True).values_list("pk", flat=True)
        for channel in Channel.values
    ])
    consents_refresh(customer_ids=[pk], acting_user=acting_user, before=before)
    return objection


@retrying
@transaction.atomic
def objection_record(
    *, customer: Customer, reason: str, acting_user: Actor, request: SubjectRequest | None = None,
) -> Objection:
    """The person objects to direct marketing: the objection recorded with why, and every
    marketing consent withdrawn on every channel (statements whose proof is the request).
    Until the DPO lifts it, the person is left out of every contactable list. Refused
    when the person already objects: one objection in force at a time."""
    if not reason.strip():
        raise ConsentRefused(_("Say why the person objects."), field="reason")
    pk = _locked_active(customer)
    if _objecting([pk]):
        raise ConsentRefused(_("This person already objects: lift the objection in force first."),
                             conflict=True)
    return _objection_write(pk=pk, reason=reason, acting_user=acting_user, request=request)


@retrying
@transaction.atomic
def objection_lift(*, objection: Objection, reason: str, acting_user: Actor) -> Objection:
    """The DPO lifts an objection (the person withdrew it): the person may be listed again
    for the purposes they grant after the objection. Nothing is granted by lifting.

    `objection` may have been read before a merge or an unmerge moved it: its holder is
    locked, then read again (a move needs that lock); one that moved meanwhile is refused."""
    if not reason.strip():
        raise ConsentRefused(_("Say why the objection is lifted."), field="reason")
    holder = _locked_active(Customer.objects.get(pk=objection.holder_id))
    held_by = Objection.objects.filter(pk=objection.pk).values_list("holder_id", flat=True).first()
    if held_by is None:  # erased with the person meanwhile
        raise ConsentRefused(_("This objection no longer exists."), conflict=True)
    if held_by != holder:  # an unmerge gave it back to another customer meanwhile
        raise ConsentRefused(_("The objection moved to another customer meanwhile: try again."),
                             conflict=True)
    before = consents_projection(customer_ids=[holder])
    # One conditional UPDATE: of two DPOs lifting at once, one lifts, the other is told.
    lifted = Objection.objects.filter(pk=objection.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lifted_by=actor_user(acting_user), lift_reason=reason.strip(),
    )
    if not lifted:
        raise ConsentRefused(_("This objection was already lifted."), conflict=True)
    objection = Objection.objects.select_related("request").get(pk=objection.pk)
    if objection.request is not None:  # the request's trail says it was lifted, and why
        from gdpr.services.requests import request_step_record

        request_step_record(request=objection.request, action="objection_lifted", acting_user=acting_user,
                            state_before=objection.request.state, detail=reason.strip())
    # A yes given after the objection may show again: subscribers are told.
    consents_refresh(customer_ids=[holder], acting_user=acting_user, before=before)
    return objection


@retrying
@transaction.atomic
def objection_request_execute(*, request: SubjectRequest, reason: str, acting_user: Actor) -> list[Objection]:
    """Execute an objection request: one objection on each person in its scope (the
    active customer of each customer in scope, once), the request locked first, then the
    customers at once in id order. A person who already objects is left as is, so that
    executing again records nothing twice; refused when everyone in scope already objects."""
    from gdpr.selectors.pack_sources import request_scope
    from gdpr.services.requests import OPEN, request_step_record, subject_request_lock

    if not reason.strip():
        raise ConsentRefused(_("Say why the person objects."), field="reason")
    request = subject_request_lock(request)
    if request.kind != RequestKind.OBJECTION:
        raise ConsentRefused(_("Only an objection request records an objection."), conflict=True)
    if request.state not in OPEN:
        raise ConsentRefused(_("The request is closed."), conflict=True)
    customers = request_scope(request=request).customers
    if not customers:
        raise ConsentRefused(_("Nothing is in scope: confirm the scope first."), conflict=True)
    survivors = _locked_actives(c.pk for c in customers)
    objecting = _objecting(survivors)
    if objecting.issuperset(survivors):
        raise ConsentRefused(_("Everyone in scope already objects: nothing was recorded."), conflict=True)
    done = [_objection_write(pk=pk, reason=reason, acting_user=acting_user, request=request)
            for pk in survivors if pk not in objecting]
    if request.executed_at is None:
        request.executed_at = timezone.now()
        request.save(update_fields=["executed_at", "updated_at"])
    request_step_record(request=request, action="objection_recorded", acting_user=acting_user,
                        state_before=request.state,
                        detail=ngettext("%(count)d customer: %(reason)s", "%(count)d customers: %(reason)s",
                                        len(done)) % {"count": len(done), "reason": reason.strip()})
    return done
