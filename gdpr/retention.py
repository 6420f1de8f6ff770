"""What the GDPR app keeps for a limited time, and the purge of each: the registry the
nightly retention task runs (`gdpr.services.retention.retention_purges_run`).

A purge is a service `purge(*, now=None[, limit=None]) -> int` that deletes what is
past its retention at `now` and returns how many it deleted. It must be safe to run
again (what it deleted is gone; a second run finds nothing more). One that accepts
`limit` deletes at most that many in one transaction and is called again until it
returns fewer (chunked); one without `limit` is called once, in one transaction.
Each chunk's count is added to the run's record in that same transaction.

Adding a purge is one line in `RETENTION_PURGES` (code, the words for the DPO, the
service's dotted path), and docs/configuration.md says its retention.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class RetentionPurge:
    code: str  # the key of its count in a run's result
    label: StrPromise | str  # what it deletes, for the DPO
    path: str  # dotted path of the purge service

    @cached_property
    def purge(self) -> Callable[..., int]:
        return import_string(self.path)

    @cached_property
    def chunked(self) -> bool:
        return "limit" in inspect.signature(self.purge).parameters


RETENTION_PURGES: tuple[RetentionPurge, ...] = (
    RetentionPurge("access_log", _("access log entries"),
                   "gdpr.services.access_log.access_log_purge"),
    RetentionPurge("access_packs", _("access pack files"),
                   "gdpr.services.packs.access_packs_purge"),
    RetentionPurge("identity_proofs", _("proofs of identity"),
                   "gdpr.services.retention.identity_proofs_purge"),
    RetentionPurge("quarantine_hashes", _("re-import quarantine hashes"),
                   "gdpr.services.quarantine.quarantine_hashes_purge"),
)


def retention_purge_labels() -> dict[str, StrPromise | str]:
    return {purge.code: purge.label for purge in RETENTION_PURGES}
