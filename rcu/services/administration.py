"""The one place that records what administrators change (`AdminEvent`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rcu.models import AdminEvent
from rcu.services.changes import actor_user

CHANGE_VERSION = 1


@dataclass(frozen=True)
class AdminChange:
    """What changed, as codes: roles or departments added and removed, fields changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"v": CHANGE_VERSION}
        for name in ("added", "removed", "fields"):
            if getattr(self, name):
                body[name] = sorted(getattr(self, name))
        if self.note:
            body["note"] = self.note
        if self.extra:
            body["extra"] = self.extra
        return body

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> AdminChange:
        data = data or {}
        return cls(
            added=tuple(data.get("added", ())), removed=tuple(data.get("removed", ())),
            fields=tuple(data.get("fields", ())), note=data.get("note", ""),
            extra=dict(data.get("extra", {})),
        )

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.fields or self.note or self.extra)


def admin_event_record(
    *, action: AdminEvent.Action, acting_user, target_user=None, department=None,
    source=None, token=None, change: AdminChange | None = None,
) -> AdminEvent:
    """Called by every administration service, inside its transaction."""
    return AdminEvent.objects.create(
        action=action,
        actor=actor_user(acting_user),
        target_user=target_user, department=department, source=source, token=token,
        change=(change or AdminChange()).to_json(),
    )


def added_removed(before: Iterable[str], after: Iterable[str], *, prefix: str) -> AdminChange:
    """Codes are stored with their kind (`role:dpo`, `department:marketing`)."""
    before_set = {prefix + c for c in before}
    after_set = {prefix + c for c in after}
    return AdminChange(
        added=tuple(sorted(after_set - before_set)), removed=tuple(sorted(before_set - after_set))
    )
