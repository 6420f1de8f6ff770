from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from rcu.normalisation.emails import normalise_email


def test_email_in_capitals_is_lower_cased():
    result = normalise_email("Jean.DUPONT@Orange.FR")
    assert result.value == "jean.dupont@orange.fr"
    assert result.key == "jean.dupont@orange.fr"
    assert result.problems == ()


def test_email_surrounded_by_spaces_is_trimmed():
    assert normalise_email("  marie@free.fr \t").value == "marie@free.fr"


def test_gmail_dots_and_plus_tags_are_kept():
    assert normalise_email("Jean.Dupont+promo@gmail.com").value == "jean.dupont+promo@gmail.com"


def test_internationalised_address_is_accepted():
    assert normalise_email("Élodie@Exämple.fr").value == "élodie@exämple.fr"


@pytest.mark.parametrize(
    "raw",
    [
        "jean.dupont",  # no @
        "jean@dupont",  # no dot in the domain
        "jean dupont@orange.fr",  # space
        "jean@@orange.fr",
        "jean..dupont@orange.fr",
        ".jean@orange.fr",
        "jean@orange.fr.",
        "jean@-orange.fr",
        "jean@localhost",
        "jean@machine.local",  # special-use domain
        "Jean Dupont <jean@orange.fr>",  # display names are not addresses
        "jean@orange.fr; marie@free.fr",
        "a" * 250 + "@orange.fr",  # longer than 254 characters
    ],
)
def test_invalid_email_is_left_out_and_flagged(raw):
    result = normalise_email(raw)
    assert result.value is None
    assert result.key is None
    assert result.problems == ("invalid",)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_blank_email_is_missing_without_a_problem(raw):
    assert normalise_email(raw).problems == ()
    assert normalise_email(raw).value is None


def _reference(text: str) -> str | None:
    """What email_validator itself says of the whole address."""
    text = text.strip().lower()
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


_LOCAL_CHARS = st.sampled_from(list("abcxyz019._-+'!#$%&*/=?^`{|}~\"@ é()[]\\,;:<>"))
_addresses = st.one_of(
    st.emails(),
    st.builds(
        lambda local, domain: local + "@" + domain,
        st.text(_LOCAL_CHARS, max_size=70),
        st.one_of(
            st.sampled_from(
                ["orange.fr", "gmail.com", "free.fr", "xn--bcher-kva.de", "exämple.fr", "a--b.fr",
                 "ab--c.fr", "local", "x.local", "-a.fr", "a.123", "test", "b.test", "x" * 64 + ".fr"]
            ),
            st.text(st.sampled_from(list("ab-.1é")), max_size=20),
        ),
    ),
    st.text(max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(_addresses)
def test_email_verdict_is_email_validators_own(raw):
    assert normalise_email(raw).value == _reference(raw)


@settings(max_examples=100, deadline=None)
@given(st.emails().map(lambda address: address.upper()))
def test_normalising_an_email_twice_changes_nothing(raw):
    first = normalise_email(raw)
    if first.value is not None:
        again = normalise_email(first.value)
        assert (again.value, again.key) == (first.value, first.key)
