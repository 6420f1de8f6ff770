from __future__ import annotations

import itertools
from datetime import UTC, datetime

from rcu.survivorship import (
    RULE_COMPLETE,
    RULE_ONLY,
    RULE_PINNED,
    RULE_RECENT,
    RULE_STABLE,
    RULE_TRUST,
    RecordView,
    golden_values,
)


def view(source, ext, trust, ts=None, **attributes):
    return RecordView(
        source=source,
        external_id=ext,
        trust_rank=trust,
        business_ts=datetime(*ts, tzinfo=UTC) if ts else None,
        attributes=attributes,
        keys={k: str(v).lower() for k, v in attributes.items()},
    )


def test_most_trusted_source_wins_and_says_so():
    crm = view("crm", "1", 1, (2020, 1, 1), email="crm@example.fr")
    shop = view("eshop", "9", 3, (2024, 1, 1), email="shop@example.fr")
    golden = golden_values([shop, crm])
    assert golden.values["email"] == "crm@example.fr"
    assert golden.provenance["email"] == {
        "source": "crm", "external_id": "1", "rule": RULE_TRUST,
        "business_ts": "2020-01-01T00:00:00+00:00",
    }


def test_equal_trust_falls_back_to_the_most_recent_record():
    old = view("crm", "1", 1, (2020, 1, 1), phone="+33111111111")
    new = view("crm", "2", 1, (2023, 6, 1), phone="+33222222222")
    golden = golden_values([old, new])
    assert golden.values["phone"] == "+33222222222"
    assert golden.provenance["phone"]["rule"] == RULE_RECENT


def test_then_the_most_complete_record():
    sparse = view("crm", "1", 1, (2020, 1, 1), first_name="Jean")
    full = view("crm", "2", 1, (2020, 1, 1), first_name="Jean-Pierre", last_name="Martin")
    golden = golden_values([sparse, full])
    assert golden.values["first_name"] == "Jean-Pierre"
    assert golden.provenance["first_name"]["rule"] == RULE_COMPLETE


def test_a_value_held_by_one_record_only_is_taken_from_it():
    crm = view("crm", "1", 1, None, first_name="Jean")
    shop = view("eshop", "2", 3, None, first_name="Jean", mobile="+33612345678")
    golden = golden_values([crm, shop])
    assert golden.values["mobile"] == "+33612345678"
    assert golden.provenance["mobile"] == {
        "source": "eshop", "external_id": "2", "rule": RULE_ONLY, "business_ts": None,
    }


def test_missing_values_never_erase_a_known_one():
    crm = view("crm", "1", 1, (2024, 1, 1), first_name="Jean")
    shop = view("eshop", "2", 3, (2020, 1, 1), first_name="Jean", birth_date="1970-01-02")
    assert golden_values([crm, shop]).values["birth_date"] == "1970-01-02"


def test_the_address_survives_as_one_block():
    trusted = view("crm", "1", 1, (2020, 1, 1), address_line1="3 rue des Lilas", city="Lyon")
    other = view("eshop", "2", 3, (2024, 1, 1), address_line1="8 av Foch", postcode="75016",
                 city="Paris", country="FR")
    golden = golden_values([trusted, other])
    assert golden.values["address_line1"] == "3 rue des Lilas"
    assert golden.values["city"] == "Lyon"
    # The trusted address has no postcode: it is not stitched from the other address.
    assert "postcode" not in golden.values
    assert "country" not in golden.values


def test_a_pinned_choice_beats_every_rule():
    crm = view("crm", "1", 1, (2024, 1, 1), last_name="Dupont")
    shop = view("eshop", "2", 3, (2020, 1, 1), last_name="Dupont-Moreau")
    golden = golden_values([crm, shop], pinned={"last_name": {"source": "eshop", "external_id": "2"}})
    assert golden.values["last_name"] == "Dupont-Moreau"
    assert golden.provenance["last_name"]["rule"] == RULE_PINNED


def test_a_pin_to_a_record_no_longer_linked_is_ignored():
    crm = view("crm", "1", 1, None, last_name="Dupont")
    golden = golden_values([crm], pinned={"last_name": {"source": "eshop", "external_id": "2"}})
    assert golden.values["last_name"] == "Dupont"
    assert golden.provenance["last_name"]["rule"] == RULE_ONLY


def test_the_result_does_not_depend_on_the_order_records_arrive_in():
    records = [
        view("crm", "1", 1, (2021, 1, 1), first_name="Anne", email="a@x.fr"),
        view("crm", "2", 1, (2021, 1, 1), first_name="Annie", email="b@x.fr"),
        view("eshop", "3", 3, (2024, 1, 1), first_name="Anne-Marie", mobile="+33612345678"),
    ]
    results = {
        (tuple(sorted(g.values.items())), repr(sorted(g.provenance.items())))
        for g in (golden_values(list(p)) for p in itertools.permutations(records))
    }
    assert len(results) == 1
    golden = golden_values(records)
    assert golden.values["first_name"] == "Anne"
    assert golden.provenance["first_name"]["rule"] == RULE_STABLE


def test_extra_identifiers_survive_like_any_attribute():
    crm = view("crm", "1", 1, None, loyalty_card="FID123")
    golden = golden_values([crm])
    assert golden.values["loyalty_card"] == "FID123"
    assert golden.provenance["loyalty_card"]["source"] == "crm"


def test_keys_follow_the_winning_values():
    crm = view("crm", "1", 1, None, last_name="Lefèvre")
    assert golden_values([crm]).keys["last_name"] == "lefèvre"


def test_a_record_alone_gives_the_same_golden_values_as_the_general_rules():
    alone = view("crm", "1", 1, (2024, 1, 1), first_name="Jean", address_line1="3 rue des Lilas",
                 postcode="69003", loyalty_card="FID1")
    alone = RecordView(alone.source, alone.external_id, alone.trust_rank, alone.business_ts,
                       alone.attributes, {**alone.keys, "address": "3 rue des lilas"})
    pinned_to_itself = {"first_name": {"source": "crm", "external_id": "1"}}
    general = golden_values([alone], pinned=pinned_to_itself)  # takes the general path
    fast = golden_values([alone])
    assert fast.values == general.values
    assert fast.keys == general.keys
    assert {k: {**v, "rule": None} for k, v in fast.provenance.items()} == {
        k: {**v, "rule": None} for k, v in general.provenance.items()
    }
    assert {p["rule"] for p in fast.provenance.values()} == {RULE_ONLY}
