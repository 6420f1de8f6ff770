"""What a steward's decision can run into."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _


class DecisionConflict(Exception):
    """The state changed under the steward (someone else decided, a lease is held, the
    customers moved): nothing was written, the message says what happened."""


class DecisionForbidden(PermissionError):
    """The person may not take this decision (`stewardship.selectors.access` says who may)."""


class DecisionInvalid(ValueError):
    """The request itself is wrong (a field, a record, a choice): names what and why."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def already_decided(candidate) -> DecisionConflict:
    """The candidate is no longer open: who closed it, and how."""
    who = candidate.decided_by.get_username() if candidate.decided_by else _("matching")
    return DecisionConflict(
        _("Already decided: %(status)s by %(who)s.")
        % {"status": candidate.get_status_display(), "who": who}
    )


def held_by_another(candidate) -> DecisionConflict:
    """Another steward holds the candidate's lease: who, and until when."""
    return DecisionConflict(
        _("%(who)s is reviewing this candidate until %(until)s.")
        % {"who": candidate.leased_by.get_username(),
           "until": timezone.localtime(candidate.leased_until).strftime("%H:%M")}
    )
