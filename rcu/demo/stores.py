"""The shops whose tills feed the `caisse` source.

Each store has one phone number of its own. When a walk-in customer gives none, clerks type
the store's number to get past the mandatory field: many unrelated customers then share it,
a classic trap for matchers that trust phone equality.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcu.demo.communes import Commune


@dataclass(frozen=True, slots=True)
class Store:
    name: str
    postcode: str
    phone: str

    @property
    def department(self) -> str:
        return self.postcode[:2]


STORES: tuple[Store, ...] = (
    Store("PARIS REPUBLIQUE", "75011", "0143572810"),
    Store("PARIS MONTPARNASSE", "75015", "0145663920"),
    Store("LA DEFENSE", "92800", "0147763150"),
    Store("CRETEIL SOLEIL", "94000", "0143991270"),
    Store("VELIZY 2", "78140", "0139464480"),
    Store("ROSNY 2", "93110", "0148128830"),
    Store("LYON PART-DIEU", "69003", "0478624410"),
    Store("MARSEILLE TERRASSES DU PORT", "13002", "0491906620"),
    Store("NICE CAP 3000", "06700", "0493142270"),
    Store("TOULOUSE BLAGNAC", "31700", "0561714390"),
    Store("BORDEAUX LAC", "33300", "0556433810"),
    Store("LILLE EURALILLE", "59777", "0320142960"),
    Store("NANTES ATLANTIS", "44800", "0240925530"),
    Store("RENNES ALMA", "35200", "0299504720"),
    Store("STRASBOURG RIVETOILE", "67100", "0388402260"),
    Store("MONTPELLIER ODYSSEUM", "34000", "0467153840"),
    Store("GRENOBLE GRAND PLACE", "38100", "0476227750"),
    Store("ROUEN SAINT-SEVER", "76100", "0235620180"),
    Store("DIJON TOISON D'OR", "21000", "0380719950"),
    Store("CLERMONT JAUDE", "63000", "0473348860"),
    Store("METZ MUSE", "57000", "0387554170"),
    Store("TOURS", "37000", "0247661230"),
    Store("REIMS", "51100", "0326474590"),
    Store("BREST", "29200", "0298433620"),
    Store("LIMOGES", "87000", "0555324780"),
    Store("PAU", "64000", "0559829140"),
    Store("PERPIGNAN", "66000", "0468517360"),
    Store("CAEN", "14000", "0231386050"),
)

STORE_PHONE_TAILS: frozenset[str] = frozenset(s.phone[2:] for s in STORES)

_STORES_BY_DEPARTMENT: dict[str, tuple[Store, ...]] = {}
for _store in STORES:
    _STORES_BY_DEPARTMENT[_store.department] = (
        *_STORES_BY_DEPARTMENT.get(_store.department, ()),
        _store,
    )

_STORES_BY_PREFIX: dict[str, tuple[Store, ...]] = {}
for _store in STORES:
    _STORES_BY_PREFIX[_store.phone[:2]] = (*_STORES_BY_PREFIX.get(_store.phone[:2], ()), _store)


def stores_near(commune: Commune) -> tuple[Store, ...]:
    """The stores of the customer's department, or else of their region."""
    return (
        _STORES_BY_DEPARTMENT.get(commune.department) or _STORES_BY_PREFIX[commune.landline_prefix]
    )


def loyalty_card_number(body: str) -> str:
    """A 13-digit EAN card number: the in-store prefix 29, ten digits, a check digit."""
    digits = "29" + body
    total = sum(map(int, digits[0::2])) + 3 * sum(map(int, digits[1::2]))
    return digits + str((10 - total % 10) % 10)
