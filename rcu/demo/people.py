"""The true persons behind the records: the ground truth the sources garble.

Besides ordinary strangers, the factory makes the hard negatives a matcher must not merge:
namesakes (same first and last name, sometimes in the same town) and members of one
household (spouses, children, twins, a son named after his father) who share the address,
the landline and sometimes an e-mail. Only the last few hundred persons are remembered to
draw them from, so memory does not grow with the size of the data set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rcu.demo.communes import Commune
from rcu.demo.pools import Pools, pick
from rcu.demo.spec import AS_OF, HISTORY_SECONDS
from rcu.demo.stores import STORE_PHONE_TAILS
from rcu.demo.text import email_word
from rcu.demo.uniqueness import NumberIssuer, SeenFilter
from rcu.demo.vocabulary import ADDRESS_COMPLEMENTS

OLDEST_BIRTH = date(1935, 1, 1)
YOUNGEST_BIRTH = date(2006, 12, 31)
_BIRTH_MODE = date(1974, 6, 1).toordinal()

RECENT_PERSONS = 512
RELATIVE_RATE = 0.05
NAMESAKE_RATE = 0.03
NAMESAKE_SAME_TOWN = 0.4
SHARED_HOUSEHOLD_EMAIL = 0.15
MOVED_RATE = 0.15
MARRIED_RATE = 0.45


# Not frozen: a frozen dataclass is several times slower to build, and hundreds of thousands
# are built. Nothing changes an address once made; relatives share the same object.
@dataclass(slots=True)
class Address:
    number: int
    suffix: str  # "", "bis" or "ter"
    street_type: str  # rue, avenue…
    street_name: str  # "des Lilas"
    complement: str
    commune: Commune

    @property
    def street(self) -> str:
        return f"{self.street_type} {self.street_name}"


@dataclass(slots=True)
class FormerHome:
    address: Address
    landline: str
    left_at: datetime


@dataclass(slots=True)
class Person:
    person_id: int
    gender: str  # "F" or "M"
    first_name: str
    birth_name: str
    married_name: str  # "" unless she took her husband's name
    birth_date: date
    emails: list[str]  # this person's own addresses, unique to them
    shared_email: str  # a household address a relative uses too, or ""
    mobile: str
    landline: str
    address: Address
    former_home: FormerHome | None = None
    loyalty_cards: list[str] = field(default_factory=list)

    @property
    def usage_name(self) -> str:
        return self.married_name or self.birth_name

    def home_at(self, moment: datetime) -> tuple[Address, str]:
        """(address, landline) as a source last updated at `moment` knows them."""
        former = self.former_home
        if former is not None and moment < former.left_at:
            return former.address, former.landline
        return self.address, self.landline


def _age_at_reference(birth: date) -> int:
    return AS_OF.year - birth.year


class PersonFactory:
    """Draws persons one by one; deterministic for a given seed."""

    def __init__(self, pools: Pools, seed: int) -> None:
        self._pools = pools
        self._rng = random.Random(f"people:{seed}")
        self._mobiles = NumberIssuer(8, f"mobile:{seed}", frozenset({"00000000"}))
        self._landlines = NumberIssuer(8, f"landline:{seed}", STORE_PHONE_TAILS)
        self._emails = SeenFilter()
        self._recent: list[Person] = []

    # -- public -------------------------------------------------------------------------

    def create(self, person_id: int) -> Person:
        rng = self._rng
        roll = rng.random()
        if self._recent and roll < RELATIVE_RATE:
            person = self._relative_of(person_id, pick(rng, self._recent))
        elif self._recent and roll < RELATIVE_RATE + NAMESAKE_RATE:
            person = self._namesake_of(person_id, pick(rng, self._recent))
        else:
            person = self._stranger(person_id)
        if len(self._recent) < RECENT_PERSONS:
            self._recent.append(person)
        else:
            self._recent[person_id % RECENT_PERSONS] = person
        return person

    def additional_email(self, person: Person) -> str:
        """One more address of the person's own (a second e-shop account needs one)."""
        email = self._email(person.first_name, person.usage_name, person.birth_date)
        person.emails.append(email)
        return email

    # -- kinds of persons ---------------------------------------------------------------

    def _stranger(
        self,
        person_id: int,
        *,
        gender: str = "",
        first_name: str = "",
        birth_name: str = "",
        married_name: str | None = None,
        commune: Commune | None = None,
    ) -> Person:
        rng = self._rng
        gender = gender or ("F" if rng.random() < 0.52 else "M")
        birth = self._birth_date()
        birth_name = birth_name or pick(rng, self._pools.last_names)
        if married_name is None:
            married_name = ""
            if gender == "F" and _age_at_reference(birth) >= 25 and rng.random() < MARRIED_RATE:
                married_name = self._other_last_name(birth_name)
        commune = commune or pick(rng, self._pools.communes)
        person = Person(
            person_id=person_id,
            gender=gender,
            first_name=first_name or pick(rng, self._pools.first_names(gender)),
            birth_name=birth_name,
            married_name=married_name,
            birth_date=birth,
            emails=[],
            shared_email="",
            mobile=self._mobile(birth),
            landline=self._landline(commune, birth),
            address=self._address(commune),
        )
        self._give_emails(person)
        if rng.random() < MOVED_RATE:
            person.former_home = self._former_home(person)
        return person

    def _namesake_of(self, person_id: int, model: Person) -> Person:
        """Same first and last name as `model` (sometimes in the same town), but somebody else."""
        same_town = self._rng.random() < NAMESAKE_SAME_TOWN
        if model.married_name:
            birth_name = self._other_last_name(model.married_name)
        else:
            birth_name = model.birth_name
        return self._stranger(
            person_id,
            gender=model.gender,
            first_name=model.first_name,
            birth_name=birth_name,
            married_name=model.married_name,
            commune=model.address.commune if same_town else None,
        )

    def _relative_of(self, person_id: int, anchor: Person) -> Person:
        """A member of `anchor`'s household: same address and landline."""
        rng = self._rng
        kind = rng.choices(
            ("spouse", "child", "twin", "junior", "sibling"), weights=(40, 30, 10, 8, 12)
        )[0]
        family_name = anchor.usage_name
        anchor_ordinal = anchor.birth_date.toordinal()
        room_for_children = YOUNGEST_BIRTH.toordinal() - anchor_ordinal
        if kind in ("child", "junior") and room_for_children <= 20 * 365:
            kind = "sibling"  # too young to have a grown-up child
        gender = "F" if rng.random() < 0.5 else "M"
        birth_name, married_name = family_name, ""
        first_name = ""
        if kind == "spouse":
            gender = "M" if anchor.gender == "F" else "F"
            ordinal = anchor_ordinal + int(rng.gauss(0, 3 * 365))
            if gender == "F":
                birth_name, married_name = self._other_last_name(family_name), family_name
            elif not anchor.married_name:
                # Living together unmarried: his own name.
                birth_name = self._other_last_name(family_name)
        elif kind in ("child", "junior"):
            ordinal = anchor_ordinal + rng.randrange(20 * 365, min(40 * 365, room_for_children))
            if kind == "junior" and anchor.gender == "M":
                gender, first_name = "M", anchor.first_name  # named after his father
        elif kind == "twin":
            ordinal = anchor_ordinal
            birth_name = anchor.birth_name
        else:  # sibling
            ordinal = anchor_ordinal + pick(rng, (-1, 1)) * rng.randrange(365, 8 * 365)
            birth_name = anchor.birth_name
        birth = date.fromordinal(
            min(max(ordinal, OLDEST_BIRTH.toordinal()), YOUNGEST_BIRTH.toordinal())
        )
        if not first_name:
            first_name = self._other_first_name(gender, anchor.first_name)
        person = Person(
            person_id=person_id,
            gender=gender,
            first_name=first_name,
            birth_name=birth_name,
            married_name=married_name,
            birth_date=birth,
            emails=[],
            shared_email="",
            mobile=self._mobile(birth),
            landline=anchor.landline,
            address=anchor.address,
            former_home=None,
        )
        self._give_emails(person)
        if anchor.emails and rng.random() < SHARED_HOUSEHOLD_EMAIL:
            person.shared_email = anchor.emails[0]
        return person

    # -- attributes ---------------------------------------------------------------------

    def _birth_date(self) -> date:
        ordinal = self._rng.triangular(
            OLDEST_BIRTH.toordinal(), YOUNGEST_BIRTH.toordinal(), _BIRTH_MODE
        )
        return date.fromordinal(int(ordinal))

    def _other_last_name(self, avoid: str) -> str:
        while True:
            name = pick(self._rng, self._pools.last_names)
            if name != avoid:
                return name

    def _other_first_name(self, gender: str, avoid: str) -> str:
        while True:
            name = pick(self._rng, self._pools.first_names(gender))
            if name != avoid:
                return name

    def _mobile(self, birth: date) -> str:
        share = 0.75 if _age_at_reference(birth) >= 70 else 0.93
        if self._rng.random() >= share:
            return ""
        return ("06" if self._rng.random() < 0.7 else "07") + self._mobiles.issue()

    def _landline(self, commune: Commune, birth: date) -> str:
        share = 0.55 if _age_at_reference(birth) >= 55 else 0.25
        if self._rng.random() >= share:
            return ""
        return commune.landline_prefix + self._landlines.issue()

    def _address(self, commune: Commune) -> Address:
        rng = self._rng
        pools = self._pools
        roll = rng.random()
        suffix = "bis" if roll < 0.06 else "ter" if roll < 0.075 else ""
        # Most numbers are small, a few streets run into the hundreds.
        number = 1 + int(rng.lognormvariate(2.2, 1.0))
        return Address(
            number=min(number, 350),
            suffix=suffix,
            street_type=pick(rng, pools.street_types),
            street_name=pick(rng, pools.street_names),
            complement=pick(rng, ADDRESS_COMPLEMENTS) if rng.random() < 0.15 else "",
            commune=commune,
        )

    def _former_home(self, person: Person) -> FormerHome:
        rng = self._rng
        current = person.address.commune
        if rng.random() < 0.5:
            commune = pick(rng, self._pools.communes_by_department[current.department])
        else:
            commune = pick(rng, self._pools.communes)
        landline = commune.landline_prefix + self._landlines.issue() if person.landline else ""
        left_at = AS_OF - timedelta(seconds=rng.randrange(HISTORY_SECONDS))
        return FormerHome(self._address(commune), landline, left_at)

    def _give_emails(self, person: Person) -> None:
        rng = self._rng
        if rng.random() < 0.92:
            person.emails.append(
                self._email(person.first_name, person.usage_name, person.birth_date)
            )
            if rng.random() < 0.3:
                surname = person.birth_name if rng.random() < 0.5 else person.usage_name
                person.emails.append(self._email(person.first_name, surname, person.birth_date))

    def _email(self, first_name: str, last_name: str, birth: date) -> str:
        rng = self._rng
        first, last = email_word(first_name), email_word(last_name)
        roll = rng.random()
        if roll < 0.35:
            local = f"{first}.{last}"
        elif roll < 0.5:
            local = f"{first[0]}.{last}" if rng.random() < 0.5 else f"{first[0]}{last}"
        elif roll < 0.62:
            local = f"{first}{last}"
        elif roll < 0.72:
            local = f"{last}.{first}"
        elif roll < 0.8:
            local = f"{first}_{last}"
        elif roll < 0.92:
            local = f"{first}.{last}{birth.year % 100:02d}"
        else:
            local = f"{first}{birth.year}"
        domain = pick(rng, self._pools.email_domains)
        email = f"{local}@{domain}"
        attempts = 0
        while self._emails.add(email):
            attempts += 1
            digits = rng.randrange(1, 10 ** (1 + attempts // 3))
            email = f"{local}{digits}@{domain}"
        return email
