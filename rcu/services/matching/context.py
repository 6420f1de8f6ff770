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
from rcu.engine.custom import comparisons_with, model_for
from rcu.engine.fellegi_sunter import Model
from rcu.engine.generic import GenericValue as GenericEntry
from rcu.engine.generic import GenericValueSet
from rcu.engine.scoring import Scorer
from rcu.engine.types import Comparison
from rcu.models import AttributeDefinition, GenericValue, MatchSettings
from rcu.selectors.attributes import custom_comparisons

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class MatchContext:
    auto_link: float
    review: float
    max_block_size: int
    scorer: Scorer
    skip_keys: frozenset[str]  # blocking keys of generic values
    # The model's comparisons: the built-in ones, then the compared custom attributes.
    comparisons: tuple[Comparison, ...] = COMPARISONS

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


def comparisons_current() -> tuple[Comparison, ...]:
    """The comparisons of the model in force: built-in, then custom attributes'."""
    return comparisons_with(custom_comparisons())


def stored_model(settings: MatchSettings) -> Model | None:
    """The model stored in the settings (None: none, or unreadable). It may have been
    learnt for other comparisons (custom attributes changed, or an engine whose levels
    changed since): `model_needs_training` says so, `settings_model` adapts it."""
    if settings.model:
        try:
            return Model.from_dict(settings.model)
        except (KeyError, ValueError):
            pass
    return None


def settings_model(settings: MatchSettings, comparisons: tuple[Comparison, ...] | None = None) -> Model:
    """The stored model for these comparisons; when custom attributes were added or
    archived since it was trained, or the engine's levels changed, what it learnt of the
    others is kept and the rest start from default parameters until the next run
    retrains it (`model_needs_training`)."""
    return model_for(stored_model(settings), comparisons or comparisons_current())


def model_needs_training(settings: MatchSettings, comparisons: tuple[Comparison, ...]) -> bool:
    """Whether the stored model was trained for other comparisons (a custom attribute
    added, archived or compared otherwise since, or an upgrade of the engine)."""
    model = stored_model(settings)
    return model is None or not model.is_for(comparisons)


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
    # The same of the custom attributes: a change of what the engine compares.
    attributes_at: datetime | str | None
    attributes_n: int


def _settings_with_generic_stamp() -> WithAnnotations[MatchSettings, _GenericStamp]:
    """The settings row with when the generic values last changed and how many there
    are, in one query: real-time matching asks for the context at every call."""
    table = GenericValue._meta.db_table
    attributes = AttributeDefinition._meta.db_table
    query = MatchSettings.objects.filter(pk=1).defer("model").annotate(
        generic_at=RawSQL(f"SELECT MAX(updated_at) FROM {table}", []),
        generic_n=RawSQL(f"SELECT COUNT(*) FROM {table}", []),
        attributes_at=RawSQL(f"SELECT MAX(updated_at) FROM {attributes}", []),
        attributes_n=RawSQL(f"SELECT COUNT(*) FROM {attributes}", []),
    )
    settings = query.first()
    if settings is None:  # a new base: create the row with its defaults
        match_settings_get()
        settings = query.get()
    return settings


def match_context() -> MatchContext:
    """The context in force; rebuilt only when the settings or generic values changed."""
    settings = _settings_with_generic_stamp()
    stamp = (settings.pk, settings.updated_at, settings.generic_at, settings.generic_n,
             settings.attributes_at, settings.attributes_n)
    with _cache_lock:
        cached = _cache.get("context")
        if cached is not None and cached[0] == stamp:
            return cached[1]
    generic = generic_value_set()
    # Read from the database, not the in-process copy: the stamp just said they changed.
    from rcu.selectors.attributes import custom_attributes_forget

    custom_attributes_forget()
    comparisons = comparisons_current()
    context = MatchContext(
        auto_link=settings.auto_link,
        review=settings.review,
        max_block_size=settings.max_block_size,
        scorer=Scorer(settings_model(settings, comparisons), generic, comparisons,
                      auto_link=settings.auto_link),
        skip_keys=generic.blocking_keys_to_skip(),
        comparisons=comparisons,
    )
    with _cache_lock:
        _cache["context"] = (stamp, context)
    return context
