"""Which pairs under review keep their records apart in clustering."""

from __future__ import annotations

from rcu.engine.clustering import ScoredPair, cluster
from rcu.engine.comparators import (
    COMPARISONS,
    AddressLevel,
    FirstNameLevel,
    LastNameLevel,
    PhoneLevel,
    PostcodeCityLevel,
)
from rcu.engine.fellegi_sunter import default_model
from rcu.engine.scoring import Scorer, levels_text
from rcu.services.matching.context import MatchContext
from rcu.services.matching.recluster import CONFLICT_AGAINST, CONFLICT_BELOW, _linkable

NAMES = [c.name for c in COMPARISONS]


def _levels(**levels) -> str:
    return levels_text(tuple(levels.get(name) for name in NAMES))


def _context() -> MatchContext:
    return MatchContext(auto_link=0.99, review=0.5, max_block_size=300,
                        scorer=Scorer(default_model(COMPARISONS)), skip_keys=frozenset())


def test_namesakes_who_live_apart_stop_a_chain_though_their_names_lift_their_score():
    context = _context()
    namesakes = _levels(first_name=FirstNameLevel.EXACT, last_name=LastNameLevel.EXACT,
                        postcode_city=PostcodeCityLevel.SAME_POSTCODE_AND_CITY,
                        phone=PhoneLevel.DIFFERENT, address=AddressLevel.DIFFERENT)
    assert context.scorer.disagreement_stored(namesakes) < CONFLICT_AGAINST
    probability, separates = _linkable((0.3, -1.2, namesakes), context)
    assert CONFLICT_BELOW < probability < context.review
    assert separates
    # So the third record that agrees with each of them joins only one.
    a, b, third = 1, 2, 3
    clustering = cluster([ScoredPair(a, third, 0.999), ScoredPair(b, third, 0.998)],
                         auto_link=0.99, review=0.5, conflict=CONFLICT_BELOW,
                         separate=[(a, b)])
    assert clustering.clusters == [frozenset({a, third})]


def test_a_sparse_record_scoring_low_for_lack_of_evidence_stops_nothing():
    context = _context()
    sparse = _levels(first_name=FirstNameLevel.EXACT, last_name=LastNameLevel.EXACT)
    assert context.scorer.disagreement_stored(sparse) == 0.0
    assert _linkable((0.3, -1.2, sparse), context) == (0.3, False)


def test_one_mild_disagreement_stops_nothing():
    """A new phone number is not enough to call two records two people."""
    context = _context()
    new_phone = _levels(first_name=FirstNameLevel.EXACT, last_name=LastNameLevel.EXACT,
                        phone=PhoneLevel.DIFFERENT)
    assert CONFLICT_AGAINST < context.scorer.disagreement_stored(new_phone) < 0.0
    assert _linkable((0.3, -1.2, new_phone), context) == (0.3, False)


def test_namesakes_whose_move_counts_once_in_their_score_still_stop_a_chain():
    """Counted once, a different address and landline lift namesakes of one town into
    review; judged as before, every difference in full, they still keep apart the
    records a third one agrees with (on the generated 100k base, letting them chain
    cost 0.0013 of precision)."""
    moved = default_model(COMPARISONS).replace(household_disagreements={
        "phone": (None, None, None, 0.0), "address": (None, None, None, 0.0),
    })
    scorer = Scorer(moved)
    context = MatchContext(auto_link=0.99, review=0.5, max_block_size=300, scorer=scorer,
                           skip_keys=frozenset())
    namesakes = _levels(first_name=FirstNameLevel.EXACT, last_name=LastNameLevel.EXACT,
                        postcode_city=PostcodeCityLevel.SAME_POSTCODE_AND_CITY,
                        phone=PhoneLevel.DIFFERENT, address=AddressLevel.DIFFERENT)
    back = scorer.shared_back_stored(namesakes)
    assert back > 5.0
    raw_weight = -1.2
    probability, separates = _linkable((0.7, raw_weight + back, namesakes), context)
    assert probability == 0.7  # in review, as its score says
    assert separates
    # A pair as probable once every difference counts in full stops nothing.
    assert _linkable((0.7, 1.3 + back, namesakes), context) == (0.7, False)
