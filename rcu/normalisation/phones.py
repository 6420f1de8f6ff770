"""Phone numbers: every way people write them, stored as E.164 ("+33612345678")."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

from rcu.normalisation.result import MISSING, Normalised, rejected

_INVALID = rejected("invalid")
_PLACEHOLDER = rejected("placeholder")

# "+33 (0)6 …": the bracketed trunk zero is written for people dialling from France.
_BRACKETED_TRUNK = re.compile(r"\(\s*0\s*\)")
_SEPARATORS = re.compile(r"[\s.\-/()\u00a0\u202f]+")
# A French number once separators are gone: +33 / 0033 / 33, an optional stray trunk
# zero, nine digits; or a national 0 + nine digits; or nine digits whose 0 was lost.
_FRENCH = re.compile(r"(?:(?P<international>\+33|0033|33)0?|(?P<trunk>0))?(?P<nsn>[1-9]\d{8})")
# Overseas departments share the national 0XXX format: from mainland France, 0690 12 34 56
# reaches Guadeloupe, whose numbers are not valid under +33.
_OVERSEAS_CALLING_CODES = (590, 596, 594, 262, 508)
_MOBILE_TYPES = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PAGER}
)
_RUNS = ("01234567890", "98765432109")


class NumberingPlan:
    """One region's number types, precompiled from phonenumbers' own metadata.

    phonenumbers.number_type looks every pattern up again for each number; French
    numbers are most of what we see, so their plan is compiled once. The answer is
    the same: the checks run in phonenumbers' order.
    """

    # The order of phonenumbers' _number_type_helper: specific ranges before the broad ones.
    _SPECIFIC_TYPES = (
        ("premium_rate", PhoneNumberType.PREMIUM_RATE),
        ("toll_free", PhoneNumberType.TOLL_FREE),
        ("shared_cost", PhoneNumberType.SHARED_COST),
        ("voip", PhoneNumberType.VOIP),
        ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
        ("pager", PhoneNumberType.PAGER),
        ("uan", PhoneNumberType.UAN),
        ("voicemail", PhoneNumberType.VOICEMAIL),
    )

    def __init__(self, region: str):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            raise ValueError(f"phonenumbers has no metadata for region {region!r}")
        self._general = self._compile(metadata.general_desc)
        self._specific = [
            (desc, kind)
            for name, kind in self._SPECIFIC_TYPES
            if (desc := self._compile(getattr(metadata, name))) is not None
        ]
        self._fixed_line = self._compile(metadata.fixed_line)
        self._mobile = self._compile(metadata.mobile)
        self._same_mobile_and_fixed = bool(metadata.same_mobile_and_fixed_line_pattern)

    @staticmethod
    def _compile(desc) -> tuple[frozenset[int], re.Pattern[str]] | None:
        if desc is None or not desc.national_number_pattern:
            return None
        return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)

    @staticmethod
    def _matches(nsn: str, desc: tuple[frozenset[int], re.Pattern[str]] | None) -> bool:
        if desc is None:
            return False
        lengths, pattern = desc
        return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None

    def number_type(self, nsn: str) -> int:
        """The PhoneNumberType of a national significant number; UNKNOWN when invalid."""
        if not self._matches(nsn, self._general):
            return PhoneNumberType.UNKNOWN
        for desc, kind in self._specific:
            if self._matches(nsn, desc):
                return kind
        if self._matches(nsn, self._fixed_line):
            if self._same_mobile_and_fixed or self._matches(nsn, self._mobile):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self._same_mobile_and_fixed and self._matches(nsn, self._mobile):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN


FRENCH_PLAN = NumberingPlan("FR")


def _is_placeholder(digits: str) -> bool:
    """Numbers typed to get past a mandatory field: 06 00 00 00 00, 01 23 45 67 89."""
    if len(digits) < 6:
        return False
    return len(set(digits[1:])) == 1 or (len(digits) >= 8 and any(digits in r for r in _RUNS))


def _e164(number: PhoneNumber, problems: tuple[str, ...]) -> Normalised:
    value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return Normalised(value, value, problems)


def _french(nsn: str, *, national: bool, problems: tuple[str, ...]) -> tuple[Normalised, int]:
    """A nine-digit French significant number, checked against the numbering plan."""
    number = PhoneNumber(country_code=33, national_number=int(nsn))
    # A number is valid when it has a type: asking once gives both answers.
    kind = FRENCH_PLAN.number_type(nsn)
    if kind == PhoneNumberType.UNKNOWN and national:
        for calling_code in _OVERSEAS_CALLING_CODES:
            overseas = PhoneNumber(country_code=calling_code, national_number=int(nsn))
            kind = phonenumbers.number_type(overseas)
            if kind != PhoneNumberType.UNKNOWN:
                number = overseas
                break
    if kind == PhoneNumberType.UNKNOWN:
        return _INVALID, kind
    return _e164(number, problems), kind


def _parse(raw: str | None, region: str) -> tuple[Normalised, int]:
    text = (raw or "").strip()
    if not text:
        return MISSING, PhoneNumberType.UNKNOWN
    text = _BRACKETED_TRUNK.sub("0", text)
    compact = _SEPARATORS.sub("", text)
    digits = compact.removeprefix("+")
    if digits.isdigit() and len(set(digits)) == 1 and len(digits) >= 6:
        return _PLACEHOLDER, PhoneNumberType.UNKNOWN

    if region == "FR":
        match = _FRENCH.fullmatch(compact)
        if match:
            nsn = match["nsn"]
            if _is_placeholder(nsn):
                return _PLACEHOLDER, PhoneNumberType.UNKNOWN
            lost_zero = not (match["international"] or match["trunk"])
            return _french(
                nsn,
                national=not match["international"],
                problems=("leading_zero_restored",) if lost_zero else (),
            )

    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return _INVALID, PhoneNumberType.UNKNOWN
    nsn = phonenumbers.national_significant_number(number)
    if _is_placeholder(nsn):
        return _PLACEHOLDER, PhoneNumberType.UNKNOWN
    if not phonenumbers.is_valid_number(number):
        return _INVALID, PhoneNumberType.UNKNOWN
    problems = ("extension_dropped",) if number.extension else ()
    return _e164(number, problems), phonenumbers.number_type(number)


def normalise_phone(raw: str | None, *, region: str = "FR") -> Normalised:
    """E.164 value and key; "invalid" or "placeholder" numbers are left out.

    `region` is where numbers written without an international prefix are dialled
    from; numbers written with "+" keep their own country.
    """
    return _parse(raw, region)[0]


def normalise_mobile(raw: str | None, *, region: str = "FR") -> Normalised:
    """As normalise_phone, plus "not_mobile" for a valid landline given as a mobile.

    The number is kept: it reaches the customer, it just cannot receive a text message.
    """
    result, kind = _parse(raw, region)
    if result.value is None or kind in _MOBILE_TYPES:
        return result
    return Normalised(result.value, result.key, (*result.problems, "not_mobile"))
