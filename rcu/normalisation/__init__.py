"""Normalisation: makes values comparable and flags problems, never changes meaning.

Pure functions, no database: each normaliser answers with a `Normalised` (value, key,
problems); `normalise_record` applies them to a whole source record.
"""

from __future__ import annotations

from rcu.normalisation.addresses import address_key, normalise_address_line
from rcu.normalisation.cities import city_key, normalise_city
from rcu.normalisation.civility import normalise_civility, split_civility
from rcu.normalisation.countries import normalise_country
from rcu.normalisation.dates import normalise_birth_date
from rcu.normalisation.emails import normalise_email
from rcu.normalisation.names import name_civility, name_key, normalise_name
from rcu.normalisation.phones import normalise_mobile, normalise_phone
from rcu.normalisation.postcodes import normalise_postcode
from rcu.normalisation.record import NormalisedRecord, normalise_record
from rcu.normalisation.result import Normalised
from rcu.normalisation.text import fold

__all__ = [
    "Normalised",
    "NormalisedRecord",
    "address_key",
    "city_key",
    "fold",
    "name_civility",
    "name_key",
    "normalise_address_line",
    "normalise_birth_date",
    "normalise_city",
    "normalise_civility",
    "normalise_country",
    "normalise_email",
    "normalise_mobile",
    "normalise_name",
    "normalise_phone",
    "normalise_postcode",
    "normalise_record",
    "split_civility",
]
