"""How each source writes a person as a row: its own habits, independently garbled.

The CRM is the cleanest (trust rank 1) but keeps surnames in capitals and civility codes;
the e-shop holds what customers typed themselves; tills write in capitals without accents,
skip what they can and type the store's number when the customer gives none; customer
service agents type fast, swap first and last names and save through Excel.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rcu.demo import corruption as garble
from rcu.demo.people import Address, Person
from rcu.demo.pools import pick
from rcu.demo.spec import AS_OF, HISTORY_SECONDS
from rcu.demo.stores import STORES, stores_near
from rcu.demo.text import strip_accents

PLACEHOLDER_MOBILE = "0600000000"


def _weighted(**weights: int) -> tuple[str, ...]:
    return tuple(name for name, weight in weights.items() for _ in range(weight))


@dataclass(frozen=True)
class Habits:
    """How often a source garbles names and contact data (probabilities per record)."""

    first_name_cases: tuple[str, ...]
    last_name_cases: tuple[str, ...]
    phone_styles: tuple[str, ...]
    typo: float
    name_variant: float
    swap_names: float
    drop_accents: float
    birth_name_when_married: float
    both_names_when_married: float
    email_noise: float = 0.0
    email_domain_typo: float = 0.0
    other_email: float = 0.1
    postcode_lost_zero: float = 0.0
    cedex: float = 0.0
    city_variant: float = 0.1


CRM_HABITS = Habits(
    first_name_cases=_weighted(keep=9, upper=1),
    last_name_cases=_weighted(upper=5, keep=5),
    phone_styles=_weighted(spaced=50, compact=30, dotted=15, international=5),
    typo=0.03,
    name_variant=0.2,
    swap_names=0.015,
    drop_accents=0.04,
    birth_name_when_married=0.2,
    both_names_when_married=0.03,
    email_noise=0.03,
    other_email=0.15,
    postcode_lost_zero=0.03,
    cedex=0.01,
    city_variant=0.15,
)

ESHOP_HABITS = Habits(
    first_name_cases=_weighted(keep=75, lower=15, upper=10),
    last_name_cases=_weighted(keep=60, upper=30, lower=10),
    phone_styles=_weighted(
        compact=40, spaced=20, international=15, international_compact=10, dotted=10, dashed=5
    ),
    typo=0.02,
    name_variant=0.15,
    swap_names=0.005,
    drop_accents=0.2,
    birth_name_when_married=0.3,
    both_names_when_married=0.0,
    email_noise=0.03,
    city_variant=0.1,
)

CAISSE_HABITS = Habits(
    first_name_cases=_weighted(upper_plain=75, upper=10, keep=15),
    last_name_cases=_weighted(upper_plain=80, upper=10, keep=10),
    phone_styles=_weighted(compact=85, spaced=10, lost_zero=5),
    typo=0.04,
    name_variant=0.3,
    swap_names=0.03,
    drop_accents=0.0,
    birth_name_when_married=0.2,
    both_names_when_married=0.0,
    city_variant=0.2,
)

SERVICE_CLIENT_HABITS = Habits(
    first_name_cases=_weighted(keep=70, upper=20, lower=10),
    last_name_cases=_weighted(upper=50, keep=45, lower=5),
    phone_styles=_weighted(
        spaced=30,
        compact=20,
        dotted=15,
        lost_zero=10,
        international=10,
        international_compact=10,
        double_zero=5,
    ),
    typo=0.05,
    name_variant=0.25,
    swap_names=0.05,
    drop_accents=0.3,
    birth_name_when_married=0.25,
    both_names_when_married=0.03,
    email_noise=0.12,
    email_domain_typo=0.02,
    other_email=0.2,
    postcode_lost_zero=0.25,
    cedex=0.02,
    city_variant=0.2,
)


CRM_CITY_CASES = _weighted(upper=2, keep=1)
CRM_COUNTRIES = ("FRANCE", "FRANCE", "France", "France", "FR", "")
ESHOP_STREET_STYLES = _weighted(keep=70, lower=15, upper=8, abbreviated=7)
ESHOP_CITY_CASES = _weighted(keep=75, upper=15, lower=10)
CAISSE_CITY_CASES = ("upper_plain",)
SERVICE_CLIENT_STREET_STYLES = _weighted(keep=45, upper=30, abbreviated=25)
SERVICE_CLIENT_CITY_CASES = _weighted(upper=50, keep=50)


def _day_first(moment: datetime) -> str:
    """03/05/2024 14:22, the CRM's French layout."""
    return (
        f"{moment.day:02d}/{moment.month:02d}/{moment.year} {moment.hour:02d}:{moment.minute:02d}"
    )


class RowRenderer:
    """Turns a person into one row of a given source, as that source would hold it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"rows:{seed}")

    def render(self, code: str, person: Person, account: int) -> dict[str, str]:
        return self.for_source(code)(person, account)

    def for_source(self, code: str) -> Callable[[Person, int], dict[str, str]]:
        """The method writing a row of source `code` (crm, eshop, caisse, service_client)."""
        return getattr(self, code)

    # -- the four sources -------------------------------------------------------------------

    def crm(self, person: Person, account: int) -> dict[str, str]:
        rng, habits = self.rng, CRM_HABITS
        moment = self._moment()
        address, landline = person.home_at(moment)
        first, last = self._names(person, habits)
        mobile = person.mobile if rng.random() < 0.88 else ""
        fixed = landline if rng.random() < 0.9 else ""
        if not fixed and mobile and rng.random() < 0.15:
            # The only number went into the first phone field of the form.
            fixed, mobile = mobile, ""
        has_address = rng.random() < 0.93
        number, street = self._street_parts(address, habits) if has_address else ("", "")
        return {
            "ID_CLIENT": "",
            "CIVILITE": self._crm_civility(person),
            "PRENOM": first,
            "NOM": last,
            "DATE_NAISS": self._birth_date(person, "dmy", present=0.8, inversion=0.02),
            "EMAIL": self._email(person, habits, account, present=0.85, shared=0.5),
            "TEL_FIXE": self._phone(fixed, habits),
            "TEL_PORTABLE": self._phone(mobile, habits),
            "NUM_VOIE": number,
            "LIBELLE_VOIE": street,
            "COMPLEMENT": address.complement if has_address and rng.random() < 0.85 else "",
            "CP": self._postcode(address, habits) if has_address else "",
            "VILLE": self._city(address, habits, CRM_CITY_CASES) if has_address else "",
            "PAYS": pick(rng, CRM_COUNTRIES) if has_address else "",
            "NUM_CARTE": self._crm_card(person),
            "DATE_MAJ": _day_first(moment),
        }

    def eshop(self, person: Person, account: int) -> dict[str, str]:
        rng, habits = self.rng, ESHOP_HABITS
        moment = self._moment()
        address, landline = person.home_at(moment)
        first, last = self._names(person, habits)
        email = person.emails[account]
        if rng.random() < habits.email_noise:
            email = email[0].upper() + email[1:]
        phone = person.mobile if rng.random() < 0.85 else ""
        if not phone and rng.random() < 0.5:
            phone = landline
        has_address = rng.random() < 0.9
        street = ""
        if has_address:
            street = self._address_line(address, habits, ESHOP_STREET_STYLES)
        return {
            "customer_id": "",
            "email": email,
            "firstname": first,
            "lastname": last,
            "birthdate": self._birth_date(person, "iso", present=0.35, inversion=0.015),
            "phone": self._phone(phone, habits),
            "street": street,
            "street2": address.complement if has_address and rng.random() < 0.8 else "",
            "zip": address.commune.postcode if has_address else "",
            "city": self._city(address, habits, ESHOP_CITY_CASES) if has_address else "",
            "country_code": "FR" if has_address else "",
            "updated_at": moment.isoformat(),  # whole seconds: 2024-05-03T14:22:05
        }

    def caisse(self, person: Person, account: int) -> dict[str, str]:
        rng, habits = self.rng, CAISSE_HABITS
        moment = self._moment(recent=True)
        address, landline = person.home_at(moment)
        first, last = self._names(person, habits)
        store = pick(rng, stores_near(address.commune)) if rng.random() < 0.9 else pick(rng, STORES)
        roll = rng.random()
        if roll < 0.55:
            phone = self._phone(person.mobile or landline, habits)
        elif roll < 0.6:
            phone = self._phone(landline, habits)
        elif roll < 0.72:
            phone = store.phone
        elif roll < 0.76:
            phone = PLACEHOLDER_MOBILE
        else:
            phone = ""
        return {
            "CARTE": person.loyalty_cards[account],
            "NOM": last if rng.random() < 0.95 else "",
            "PRENOM": first if rng.random() < 0.9 else "",
            "TEL": phone,
            "CP": address.commune.postcode if rng.random() < 0.6 else "",
            "VILLE": self._city(address, habits, CAISSE_CITY_CASES) if rng.random() < 0.55 else "",
            "MAGASIN": store.name,
            "DATE_DERNIER_ACHAT": moment.date().isoformat(),
        }

    def service_client(self, person: Person, account: int) -> dict[str, str]:
        rng, habits = self.rng, SERVICE_CLIENT_HABITS
        moment = self._moment()
        address, landline = person.home_at(moment)
        first, last = self._names(person, habits)
        phone = (person.mobile or landline) if rng.random() < 0.8 else (landline or person.mobile)
        has_address = rng.random() < 0.65
        line = ""
        if has_address:
            line = self._address_line(address, habits, SERVICE_CLIENT_STREET_STYLES)
        return {
            "ID_CONTACT": "",
            "CIVILITE": self._spoken_civility(person),
            "NOM": last,
            "PRENOM": first,
            "EMAIL": self._email(person, habits, account, present=0.65, shared=0.5),
            "TELEPHONE": self._phone(phone, habits) if rng.random() < 0.85 else "",
            "ADRESSE": line,
            "CP": self._postcode(address, habits) if has_address else "",
            "VILLE": self._city(address, habits, SERVICE_CLIENT_CITY_CASES) if has_address else "",
            "DATE_CONTACT": moment.isoformat(" "),
        }

    # -- shared habits ----------------------------------------------------------------------

    def _moment(self, *, recent: bool = False) -> datetime:
        rng = self.rng
        seconds = int(rng.random() * HISTORY_SECONDS)
        if recent:
            # Last purchases lean towards the recent past.
            seconds = min(seconds, int(rng.random() * HISTORY_SECONDS))
        return AS_OF - timedelta(seconds=seconds)

    def _names(self, person: Person, habits: Habits) -> tuple[str, str]:
        rng = self.rng
        first = person.first_name
        last = person.usage_name
        with_birth_name = False
        if person.married_name:
            roll = rng.random()
            if roll < habits.birth_name_when_married:
                last = person.birth_name
            elif roll < habits.birth_name_when_married + habits.both_names_when_married:
                with_birth_name = True
        if rng.random() < habits.name_variant:
            first = garble.compound_first_name_variant(rng, first)
            last = garble.surname_variant(rng, last)
        if rng.random() < habits.typo:
            if rng.random() < 0.5:
                first = garble.typo(rng, first)
            else:
                last = garble.typo(rng, last)
        if with_birth_name:
            last = f"{person.birth_name} épouse {last}"
        if rng.random() < habits.drop_accents:
            first, last = strip_accents(first), strip_accents(last)
        first = garble.in_case(first, pick(rng, habits.first_name_cases))
        last = garble.in_case(last, pick(rng, habits.last_name_cases))
        if rng.random() < habits.swap_names:
            first, last = last, first
        return first, last

    def _crm_card(self, person: Person) -> str:
        """Half the cardholders gave their card number to the CRM too."""
        if person.loyalty_cards and self.rng.random() < 0.5:
            return pick(self.rng, person.loyalty_cards)
        return ""

    def _is_female_as_ticked(self, person: Person) -> bool:
        female = person.gender == "F"
        return not female if self.rng.random() < 0.01 else female  # the wrong box, now and then

    def _crm_civility(self, person: Person) -> str:
        """The CRM's codes: M, MME, and MLLE still given to young unmarried women."""
        rng = self.rng
        if rng.random() < 0.04:
            return ""
        if not self._is_female_as_ticked(person):
            return "M"
        if not person.married_name and person.birth_date.year > 1990 and rng.random() < 0.3:
            return "MLLE"
        return "MME"

    def _spoken_civility(self, person: Person) -> str:
        """What an agent types: Monsieur, M., Madame or Mme."""
        rng = self.rng
        if rng.random() < 0.08:
            return ""
        if self._is_female_as_ticked(person):
            return "Madame" if rng.random() < 0.6 else "Mme"
        return "Monsieur" if rng.random() < 0.6 else "M."

    def _birth_date(self, person: Person, layout: str, *, present: float, inversion: float) -> str:
        rng = self.rng
        if rng.random() >= present:
            return ""
        birth = person.birth_date
        year, month, day = garble.garbled_birth_date(
            rng,
            birth.year,
            birth.month,
            birth.day,
            inversion=inversion,
            impossible=0.003,
            future=0.002,
        )
        if layout == "iso":
            return f"{year:04d}-{month:02d}-{day:02d}"
        return f"{day:02d}/{month:02d}/{year:04d}"

    def _email(
        self, person: Person, habits: Habits, account: int, *, present: float, shared: float
    ) -> str:
        rng = self.rng
        if rng.random() >= present:
            return ""
        emails = person.emails
        if person.shared_email and (not emails or rng.random() < shared):
            email = person.shared_email
        elif not emails:
            return ""
        elif account or (len(emails) > 1 and rng.random() < habits.other_email):
            email = emails[-1]
        else:
            email = emails[0]
        if rng.random() < habits.email_domain_typo:
            email = garble.email_with_domain_typo(email)
        if rng.random() < habits.email_noise:
            email = garble.noisy_email(rng, email)
        return email

    def _phone(self, digits: str, habits: Habits) -> str:
        if not digits:
            return ""
        return garble.phone_as_written(digits, pick(self.rng, habits.phone_styles))

    def _street_parts(self, address: Address, habits: Habits) -> tuple[str, str]:
        """(number, street) for sources that keep them apart."""
        rng = self.rng
        number = garble.street_number(rng, address.number, address.suffix)
        if rng.random() < 0.03:
            number = ""  # "Le Bourg" addresses, or simply not filled in
        roll = rng.random()
        if roll < 0.6:
            street = address.street
        elif roll < 0.85:
            street = address.street.upper()
        else:
            street = garble.abbreviated_street(rng, address.street_type, address.street_name)
        if rng.random() < habits.typo:
            street = garble.typo(rng, street)
        return number, street

    def _address_line(self, address: Address, habits: Habits, styles: tuple[str, ...]) -> str:
        """The whole first line, "12 bis rue des Lilas", in one of the source's styles."""
        rng = self.rng
        number = garble.street_number(rng, address.number, address.suffix)
        style = pick(rng, styles)
        if style == "abbreviated":
            street = garble.abbreviated_street(rng, address.street_type, address.street_name)
            line = f"{number} {street}"
        else:
            line = garble.in_case(f"{number} {address.street}", style)
        if rng.random() < habits.typo:
            line = garble.typo(rng, line)
        return line

    def _postcode(self, address: Address, habits: Habits) -> str:
        lost = address.commune.postcode[0] == "0" and self.rng.random() < habits.postcode_lost_zero
        return garble.postcode_as_written(address.commune.postcode, lost_zero=lost)

    def _city(self, address: Address, habits: Habits, cases: tuple[str, ...]) -> str:
        rng = self.rng
        city = address.commune.city
        if rng.random() < habits.city_variant:
            city = garble.city_variant(rng, city, address.commune.postcode)
        if rng.random() < habits.drop_accents:
            city = strip_accents(city)
        city = garble.in_case(city, pick(rng, cases))
        if rng.random() < habits.cedex:
            city = garble.with_cedex(rng, city.upper())
        return city
