"""Writes of the quality app: the daily snapshot, the rules, the breach notices."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quality.measure import Figure, measure_base, measure_golden, measure_sources
from quality.models import QualityFigure, QualityRule, QualitySnapshot, source_scope
from rcu.models import Department, ExtraIdentifier, SourceSystem
from rcu.roles import Role
from rcu.services.changes import Actor, actor_user, change_save

logger = logging.getLogger(__name__)
BULK_SIZE = 2000


@dataclass(frozen=True, slots=True)
class Breach:
    """A rule whose figure of the day is under its minimum."""

    rule: QualityRule
    taken_on: date
    numerator: int
    denominator: int

    @property
    def rate(self) -> float:
        return self.numerator / self.denominator


def quality_snapshot_take(
    *, acting_user: Actor, now: datetime | None = None, notify: bool = True
) -> QualitySnapshot:
    """Measure the base and keep today's figures (taking it again the same day replaces
    them: the task can be retried or run by hand at any time).

    The measure reads outside any transaction (a few grouped scans); the figures of the
    day are then replaced in one short transaction, so the pages never see half a day.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    started = time.monotonic()
    sources = list(SourceSystem.objects.prefetch_related("mappings").order_by("code"))
    figures: list[Figure] = measure_sources(sources, now=now)
    figures += measure_golden(extra_identifiers=ExtraIdentifier.objects.values_list("code", flat=True))
    figures += measure_base(Department.objects.order_by("code"))
    with transaction.atomic():
        snapshot, _created = QualitySnapshot.objects.update_or_create(
            taken_on=day, defaults={"started_at": now, "finished_at": None, "taken_by": actor_user(acting_user)},
        )
        QualityFigure.objects.filter(taken_on=day).delete()
        QualityFigure.objects.bulk_create(
            [
                QualityFigure(
                    taken_on=day, scope=f.scope, attribute=f.attribute, metric=f.metric,
                    detail=f.detail, numerator=f.numerator, denominator=f.denominator,
                )
                for f in figures
            ],
            batch_size=BULK_SIZE,
        )
        snapshot.finished_at = timezone.now()
        snapshot.duration_ms = int((time.monotonic() - started) * 1000)
        snapshot.save(update_fields=["finished_at", "duration_ms"])
        if notify:
            breaches = quality_rule_breaches(taken_on=day)
            transaction.on_commit(lambda: quality_breaches_notify(breaches=breaches))
    return snapshot


def quality_rule_breaches(*, taken_on: date, sources=None) -> list[Breach]:
    """Active rules (of `sources`, or all) whose figure on `taken_on` is under the minimum.

    A rule on an attribute with nothing to measure (no record, nothing received) is not
    breached: there is no rate to fall short.
    """
    found = QualityRule.objects.filter(active=True).select_related("source")
    if sources is not None:
        found = found.filter(source__in=sources)
    rules = list(found)
    if not rules:
        return []
    figures = {
        (f.scope, f.attribute, f.metric): f
        for f in QualityFigure.objects.filter(
            taken_on=taken_on,
            scope__in={source_scope(rule.source.code) for rule in rules},
            metric__in={rule.metric for rule in rules},
            detail="",
        )
    }
    breaches = []
    for rule in rules:
        figure = figures.get((source_scope(rule.source.code), rule.attribute, rule.metric))
        if figure is None or not figure.denominator:
            continue
        # Exact: numerator / denominator < minimum, without floating point at the edge.
        if Decimal(figure.numerator) < rule.minimum * figure.denominator:
            breaches.append(Breach(rule, taken_on, figure.numerator, figure.denominator))
    return breaches


def _admin_addresses() -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True, groups__name=Role.ADMIN.value
    ).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def quality_breaches_notify(*, breaches: list[Breach]) -> int:
    """Mail the admins the breaches not mailed yet today; returns how many were mailed."""
    fresh = [b for b in breaches if b.rule.notified_on != b.taken_on]
    addresses = _admin_addresses()
    if not fresh or not addresses:
        return 0
    lines = [
        _("%(source)s, %(attribute)s: %(metric)s %(rate).1f %% (%(numerator)d of %(denominator)d), "
          "minimum %(minimum).1f %%") % {
            "source": b.rule.source.code, "attribute": b.rule.attribute,
            "metric": b.rule.get_metric_display(), "rate": b.rate * 100,
            "numerator": b.numerator, "denominator": b.denominator,
            "minimum": float(b.rule.minimum) * 100,
        }
        for b in fresh
    ]
    subject = _("RCU: %(count)d quality rule(s) not met on %(day)s") % {
        "count": len(fresh), "day": fresh[0].taken_on.isoformat(),
    }
    body = _("The daily quality measure found these rules not met:") + "\n\n" + "\n".join(lines)
    try:
        send_mail(subject, body, None, addresses, fail_silently=False)
    except Exception:  # the figures are kept; the next measure mails again
        logger.exception("quality breaches could not be mailed")
        return 0
    QualityRule.objects.filter(pk__in=[b.rule.pk for b in fresh]).update(
        notified_on=fresh[0].taken_on
    )
    logger.info("quality breaches mailed", extra={"count": len(fresh)})
    return len(fresh)


@transaction.atomic
def quality_rule_save(*, rule: QualityRule, acting_user: Actor) -> QualityRule:
    """Create or change a rule, recording who did it (the rule's history)."""
    rule.full_clean()
    if rule.pk is None:
        rule.created_by = actor_user(acting_user)
    change_save(rule, acting_user=acting_user, reason="created" if rule.pk is None else "changed")
    return rule
