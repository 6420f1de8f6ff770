"""The engine's settings, model and generic values, as one object for a run or a call."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import TYPE_CHECKING, TypedDict

import orjson
from django.db.models.expressions import RawSQL

from rcu.engine.comparators import COMPARISONS
from rcu.engine.fellegi_sunter import Model, default_model
from rcu.engine.generic import GenericValue as GenericEntry
from rcu.engine.generic import GenericValueSet
from rcu.engine.scoring import Scorer
from rcu.models import GenericValue, MatchSettings

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class MatchContext:
    auto_link: float
    review: float
    max_block_size: int
    scorer: Scorer
    skip_keys: frozenset[str]  # blocking keys of generic values

    @property
    def model(self) -> Model:
        return self.scorer.model

    @property
    def digest(self) -> str:
        """What a stored pair's score and existence depend on, blocks aside: the model,
        the thresholds and the generic values. Pairs scored under another digest are
        not comparable with new ones (`MatchSettings.scored_with`)."""
        content = orjson.dumps(
            {
                "model": self.model.to_dict(),
                "auto_link": self.auto_link,
                "review": self.review,
                "max_block_size": self.max_block_size,
                "generic": list(self.scorer.generic),
            },
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(content).hexdigest()


def match_settings_get() -> MatchSettings:
    settings, _ = MatchSettings.objects.get_or_create(pk=1)
    return settings


def stored_model(settings: MatchSettings) -> Model | None:
    """The model stored in the settings, or None when there is none or it was learnt
    for other comparisons (an engine whose levels changed since): it must be learnt
    again."""
    if settings.model:
        try:
            model = Model.from_dict(settings.model)
            if model.is_for(COMPARISONS):
                return model
        except (KeyError, ValueError):
            pass
    return None


def settings_model(settings: MatchSettings) -> Model:
    return stored_model(settings) or default_model(COMPARISONS)


def generic_value_set() -> GenericValueSet:
    entries = [
        GenericEntry(row.kind, row.value, row.records, row.distinct_names, row.reason, row.rule)
        for row in GenericValue.objects.filter(dismissed=False)
    ]
    return GenericValueSet(entries)


_cache: dict[str, tuple[tuple, MatchContext]] = {}
_cache_lock = Lock()


class _GenericStamp(TypedDict):
    # Raw SQL, only compared: MAX(updated_at) is text on SQLite, None with no generic value.
    generic_at: datetime | str | None
    generic_n: int


def _settings_with_generic_stamp() -> WithAnnotations[MatchSettings, _GenericStamp]:
    """The settings row with when the generic values last changed and how many there
    are, in one query: real-time matching asks for the context at every call."""
    table = GenericValue._meta.db_table
    query = MatchSettings.objects.filter(pk=1).defer("model").annotate(
        generic_at=RawSQL(f"SELECT MAX(updated_at) FROM {table}", []),
        generic_n=RawSQL(f"SELECT COUNT(*) FROM {table}", []),
    )
    settings = query.first()
    if settings is None:  # a new base: create the row with its defaults
        match_settings_get()
        settings = query.get()
    return settings


def match_context() -> MatchContext:
    """The context in force; rebuilt only when the settings or generic values changed."""
    settings = _settings_with_generic_stamp()
    stamp = (settings.pk, settings.updated_at, settings.generic_at, settings.generic_n)
    with _cache_lock:
        cached = _cache.get("context")
        if cached is not None and cached[0] == stamp:
            return cached[1]
    generic = generic_value_set()
    context = MatchContext(
        auto_link=settings.auto_link,
        review=settings.review,
        max_block_size=settings.max_block_size,
        scorer=Scorer(settings_model(settings), generic, auto_link=settings.auto_link),
        skip_keys=generic.blocking_keys_to_skip(),
    )
    with _cache_lock:
        _cache["context"] = (stamp, context)
    return context
