"""Change files: the change events after a cursor, as a subscriber may receive them, as
JSON Lines or CSV rows. Shared by `export_changes` and the admins' download, so that a
file and a webhook never disagree on what a subscriber sees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from rcu import hooks
from rcu.models import ChangeEvent, Subscription
from rcu.selectors.attributes import custom_attributes_current
from rcu.selectors.restriction import RESTRICTION_NOTICES, restricted_silenced
from rcu.services.deliveries import cross_references, delivery_body
from rcu.services.events import subscribable_attributes

if TYPE_CHECKING:
    from collections.abc import Sequence

CHUNK = 2000


class SinceRefused(ValueError):
    """`since` is neither an event id nor an ISO 8601 date and time."""


def everything() -> Subscription:
    """Every event and attribute, and what apps add to events (`consents`): the admins'
    own file, not a subscriber's (never saved)."""
    return Subscription(name="export", event_types=[], attributes=list(subscribable_attributes()))


def change_file_events(*, subscription: Subscription, since: str) -> QuerySet[ChangeEvent]:
    """The events after `since` (an event id, or an ISO 8601 time) this subscriber gets."""
    since = since.strip() or "0"
    if since.isdigit():
        events = ChangeEvent.objects.filter(pk__gt=int(since))
    else:
        moment: datetime | None = parse_datetime(since)
        if moment is None:
            raise SinceRefused(f"{since!r}: give an event id or an ISO 8601 date and time")
        events = ChangeEvent.objects.filter(occurred_at__gte=moment)
    # Snapshots written for one subscriber go to that subscriber's files only.
    mine = Q(audience=subscription) if subscription.pk else Q(pk__in=[])
    events = events.filter(Q(audience__isnull=True) | mine)
    if subscription.event_types:
        events = events.filter(Q(type__in=subscription.event_types) | mine)
    return events.order_by("pk")


def change_file_bodies(*, subscription: Subscription, events: QuerySet[ChangeEvent], read_by: Any,
                       purpose: str, reference: str = "") -> Iterator[dict[str, Any]]:
    """Each event's body as the subscriber would receive it, plus `id` and `cursor`.

    A change file holds personal data: each customer in it is a read by `read_by` (a
    person, or RCU running a command), logged once, as the chunk holding it is written."""
    logged: set[str] = set()

    def bodies(chunk: list[ChangeEvent]) -> Iterator[dict[str, Any]]:
        chunk = restricted_left_out(subscription, chunk)
        new = {str(e.customer_public_id) for e in chunk} - logged
        logged.update(new)
        hooks.personal_data_read(user=read_by, customers=sorted(new), purpose=purpose,
                                 reference=reference if new else "")
        refs = cross_references(subscription, [e.customer_id for e in chunk]) if chunk else {}
        for event in chunk:
            yield {"id": event.webhook_id, "cursor": event.pk,
                   **delivery_body(subscription, event, refs)}

    chunk: list[ChangeEvent] = []
    for event in events.iterator(chunk_size=CHUNK):
        chunk.append(event)
        if len(chunk) == CHUNK:
            yield from bodies(chunk)
            chunk = []
    yield from bodies(chunk)


def restricted_left_out(subscription: Subscription, events: Sequence[ChangeEvent]) -> list[ChangeEvent]:
    """These events without those a restricted customer's restriction keeps from this
    reader (the admins' own file, a marketing subscriber's): the notices stay."""
    silenced = restricted_silenced(subscription, [(e.type, e.customer_id) for e in events])
    return [e for e in events if e.customer_id not in silenced or e.type in RESTRICTION_NOTICES]


# A spread projected value's cell when the event carries the value but not this path
# (a consent nobody stated: neither a yes nor a no).
NOT_STATED = "none"


@dataclass(frozen=True)
class CsvLayout:
    attributes: list[str]
    # Custom attributes get a column each, "custom_attributes.<name>", in name order.
    custom: list[str] = field(default_factory=list)
    # What apps add to events, spread (`rcu.hooks.projection_columns`): a column per
    # path, "consents.newsletter.email", yes / no / none; blank when the event does not
    # carry the name at all (it did not change).
    spread: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @classmethod
    def of(cls, subscription: Subscription) -> CsvLayout:
        attributes = [a for a in subscribable_attributes() if a in subscription.attributes]
        custom = [a.name for a in custom_attributes_current()] if "custom_attributes" in attributes else []
        paths = hooks.projection_columns() if set(attributes) & set(hooks.projected_attributes()) else {}
        spread = [(name, path) for name in attributes for path in paths.get(name, [])]
        return cls([a for a in attributes if a != "custom_attributes" and a not in paths], custom, spread)

    @property
    def columns(self) -> list[str]:
        return ["id", "cursor", "type", "timestamp", "customer_id", "version", *self.attributes,
                *(f"custom_attributes.{name}" for name in self.custom),
                *(".".join((name, *path)) for name, path in self.spread),
                "survivor_id", "retired_ids", "merged_from", "source_ids"]

    def row(self, body: dict[str, Any]) -> list[Any]:
        data = body["data"]
        custom = data["attributes"].get("custom_attributes") or {}
        return [body["id"], body["cursor"], body["type"], body["timestamp"],
                data["customer_id"], data["version"],
                *(_cell(data["attributes"].get(a)) for a in self.attributes),
                *(_cell(custom.get(name)) if isinstance(custom, dict) else "" for name in self.custom),
                *(_spread_cell(data["attributes"], name, path) for name, path in self.spread),
                data.get("survivor_id", ""), " ".join(data.get("retired_ids", [])),
                data.get("merged_from", ""), " ".join(data.get("source_ids", []))]


def jsonl_line(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _spread_cell(attributes: dict[str, Any], name: str, path: tuple[str, ...]) -> Any:
    if name not in attributes:
        return ""
    value: Any = attributes[name]
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    if value is None:
        return NOT_STATED
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _cell(value)
