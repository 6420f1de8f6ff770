"""Scoring record pairs: stopping early gives the same answer as scoring to the end."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections import defaultdict

import numpy as np
import pytest

from rcu.engine.blocking import key_bucket, pairs_of_blocks, pairs_split
from rcu.engine.comparators import COMPARISONS, compare_identifiers, compare_phone
from rcu.engine.fellegi_sunter import (
    default_model,
    probability_from_weight,
    weight_from_probability,
)
from rcu.engine.scoring import Scorer, block_pairs, usable_keys
from rcu.engine.types import MatchRecord
from rcu.normalisation.record import normalise_record

FIRST = ["Jean", "Jean-Pierre", "Marie", "Marie-Hélène", "Éloïse", "J.", "Pierre", ""]
LAST = ["Le Goff", "Legoff", "Dupont", "Du Pont", "Martin", "Martins", "de la Tour", ""]
BIRTH = ["1980-04-03", "1980-03-04", "1980-04-13", "1975-11-21", ""]
EMAIL = ["jean.legoff@orange.fr", "jean.legoff@free.fr", "marie@exemple.fr", ""]
PHONE = ["01 45 67 89 12", "01 45 67 89 13", "06 12 34 56 78", ""]
ADDRESS = ["12 bd St-Michel", "12 boulevard Saint Michel", "14 boulevard Saint-Michel",
           "3 rue de la République", ""]
PLACE = [("75005", "Paris"), ("75006", "Paris"), ("69002", "Lyon"), ("", "Lyon"), ("", "")]
CARD = ["", "", "2916111229200", "2916111229201"]


def _records(count: int, seed: int) -> list[MatchRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(count):
        postcode, city = rng.choice(PLACE)
        values = {
            "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
            "birth_date": rng.choice(BIRTH), "email": rng.choice(EMAIL),
            "phone": rng.choice(PHONE), "mobile": rng.choice(PHONE),
            "address_line1": rng.choice(ADDRESS), "postcode": postcode, "city": city,
        }
        normalised = normalise_record({k: v for k, v in values.items() if v})
        keys = dict(normalised.keys)
        card = rng.choice(CARD)
        if card:
            keys["loyalty_card"] = card
        records.append(MatchRecord(i, "test", normalised.attributes, keys))
    return records


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(default_model(COMPARISONS).replace(prior=1e-4))


@pytest.mark.parametrize("probability", [0.01, 0.5, 0.9, 0.99])
def test_stopping_early_never_changes_a_score_and_only_drops_pairs_below_the_mark(
    scorer, probability
):
    mark = weight_from_probability(probability)
    records = _records(60, seed=7)
    kept = dropped = 0
    for a, b in itertools.combinations(records, 2):
        full = scorer.score(a, b)
        early = scorer.score_at_least(a, b, mark)
        if early is None:
            assert full.weight < mark
            dropped += 1
        else:
            assert early == full
            kept += 1
    assert kept and dropped  # both outcomes were exercised


def test_the_pair_is_scored_the_same_whichever_record_comes_first(scorer):
    records = _records(30, seed=11)
    for a, b in itertools.combinations(records, 2):
        assert scorer.score_at_least(b, a, -math.inf) == scorer.score(a, b)


def test_weight_and_probability_are_inverse():
    for probability in (1e-6, 0.01, 0.5, 0.9, 0.999):
        assert probability_from_weight(weight_from_probability(probability)) == pytest.approx(probability)
    assert weight_from_probability(0.0) == -math.inf
    assert weight_from_probability(1.0) == math.inf


def test_derived_forms_are_not_carried_to_a_changed_copy():
    """A record without its generic phone must not be compared with the phones its
    original had derived (`GenericValueSet.neutralise` copies with `replace`)."""
    keys = {"phone": "+33145678912", "loyalty_card": "123"}
    original = MatchRecord(1, "test", {}, keys)
    other = MatchRecord(2, "test", {}, {"phone": "+33145678912", "loyalty_card": "124"})
    assert compare_phone(original, other) == 0
    assert compare_identifiers(original, other) == 1
    copy = dataclasses.replace(original, keys={})
    assert compare_phone(copy, other) is None
    assert compare_identifiers(copy, other) is None


def test_block_pairs_yields_every_pair_sharing_a_key_exactly_once_in_one_of_its_blocks():
    records = _records(120, seed=11)
    keys_of = {r.id: usable_keys(r, ()) for r in records}
    blocks = defaultdict(list)
    for record_id, keys in keys_of.items():
        for key in keys:
            blocks[key].append(record_id)
    expected = {
        (a.id, b.id) for a, b in itertools.combinations(records, 2) if keys_of[a.id] & keys_of[b.id]
    }

    from_sets = list(block_pairs(blocks, keys_of))
    # Batch partitions hold the keys as tuples, to use less memory: same pairs.
    from_tuples = list(block_pairs(blocks, {i: tuple(keys) for i, keys in keys_of.items()}))

    assert len(from_sets) == len(set(from_sets)) and set(from_sets) == expected
    assert sorted(from_tuples) == sorted(from_sets)
    # Split over partitions (halves of the keys), each pair still comes out once.
    ordered = sorted(blocks)
    halves = [{k: blocks[k] for k in ordered[: len(ordered) // 2]},
              {k: blocks[k] for k in ordered[len(ordered) // 2 :]}]
    split = [pair for half in halves for pair in block_pairs(half, keys_of)]
    assert sorted(split) == sorted(from_sets)


def test_pairs_of_blocks_lists_every_pair_sharing_a_key_once_in_even_partitions():
    """A full run's pairs, made as arrays from the stored key rows: the pairs
    `block_pairs` finds from the records' keys, each once, split in partitions whose
    union is the whole; two keys colliding into one block only add pairs."""
    records = _records(300, seed=17)
    keys_of = {r.id: usable_keys(r, ()) for r in records}
    expected = {
        (a.id, b.id) for a, b in itertools.combinations(records, 2) if keys_of[a.id] & keys_of[b.id]
    }
    rows = [(key, record_id) for record_id, keys in keys_of.items() for key in keys]
    codes = {key: n for n, key in enumerate(sorted({key for key, _ in rows}))}
    blocks = np.array([codes[key] for key, _ in rows], dtype=np.int64)
    buckets = np.array([key_bucket(key) for key, _ in rows], dtype=np.int64)
    ids = np.array([record_id for _, record_id in rows], dtype=np.int64)

    pairs, chosen = pairs_of_blocks(blocks, buckets, ids)
    parts = pairs_split(pairs, chosen, 4)

    listed = [tuple(pair) for part in parts for pair in part.tolist()]
    assert len(listed) == len(set(listed)) and set(listed) == expected
    assert all((part[:, 0] < part[:, 1]).all() for part in parts)
    assert all(len(part) for part in parts)  # no partition left empty
    # Each pair is scored in the bucket of a block its two records share.
    bucket_sets = defaultdict(set)
    for (_key, record_id), bucket in zip(rows, buckets.tolist(), strict=True):
        bucket_sets[record_id].add(bucket)
    assert all(
        bucket in bucket_sets[a] & bucket_sets[b]
        for (a, b), bucket in zip(pairs.tolist(), chosen.tolist(), strict=True)
    )
    # The same pairs to the same buckets, whatever the order of the rows.
    shuffled = np.random.default_rng(3).permutation(len(rows))
    again, again_chosen = pairs_of_blocks(blocks[shuffled], buckets[shuffled], ids[shuffled])
    assert (again == pairs).all() and (again_chosen == chosen).all()
    # Every key hashed to one of two blocks: more pairs, never a pair missing, and a
    # record under two colliding keys is not paired with itself.
    collided, _ = pairs_of_blocks(blocks % 2, buckets, ids)
    assert expected <= {tuple(pair) for pair in collided.tolist()}
    assert (collided[:, 0] < collided[:, 1]).all()
