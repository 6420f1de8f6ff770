"""Countries: ISO 3166 alpha-2 codes from the names and codes sources use."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from rcu.normalisation.result import MISSING, Normalised, rejected
from rcu.normalisation.text import word_key

# Every region phonenumbers knows has a real ISO alpha-2 code.
_ALPHA2 = frozenset(phonenumbers.SUPPORTED_REGIONS)

# Alpha-3 codes of the countries our customers live in.
_ALPHA3: dict[str, str] = {
    "fra": "FR", "bel": "BE", "che": "CH", "deu": "DE", "esp": "ES", "ita": "IT",
    "gbr": "GB", "lux": "LU", "mco": "MC", "and": "AD", "mar": "MA", "dza": "DZ",
    "tun": "TN", "prt": "PT", "nld": "NL", "aut": "AT", "irl": "IE", "pol": "PL",
    "rou": "RO", "grc": "GR", "swe": "SE", "dnk": "DK", "nor": "NO", "fin": "FI",
    "usa": "US", "can": "CA", "bra": "BR", "chn": "CN", "jpn": "JP", "tur": "TR",
    "sen": "SN", "civ": "CI", "cmr": "CM", "mdg": "MG", "mli": "ML", "hti": "HT",
    "lbn": "LB", "isr": "IL", "rus": "RU", "ukr": "UA", "ind": "IN", "vnm": "VN",
    "glp": "GP", "mtq": "MQ", "guf": "GF", "reu": "RE", "myt": "YT", "ncl": "NC",
    "pyf": "PF", "spm": "PM",
}

# Folded country names, in French and in English, with the usual short forms.
_NAMES: dict[str, str] = {
    "france": "FR", "republique francaise": "FR", "france metropolitaine": "FR",
    "belgique": "BE", "belgium": "BE", "belgie": "BE",
    "suisse": "CH", "switzerland": "CH", "schweiz": "CH", "svizzera": "CH",
    "allemagne": "DE", "germany": "DE", "deutschland": "DE",
    "espagne": "ES", "spain": "ES", "espana": "ES",
    "italie": "IT", "italy": "IT", "italia": "IT",
    "royaume uni": "GB", "united kingdom": "GB", "uk": "GB", "grande bretagne": "GB",
    "great britain": "GB", "angleterre": "GB", "england": "GB", "ecosse": "GB",
    "scotland": "GB", "pays de galles": "GB", "wales": "GB",
    "luxembourg": "LU", "monaco": "MC", "andorre": "AD", "andorra": "AD",
    "liechtenstein": "LI",
    "maroc": "MA", "morocco": "MA", "algerie": "DZ", "algeria": "DZ",
    "tunisie": "TN", "tunisia": "TN",
    "portugal": "PT", "pays bas": "NL", "netherlands": "NL", "hollande": "NL",
    "nederland": "NL",
    "autriche": "AT", "austria": "AT", "irlande": "IE", "ireland": "IE",
    "pologne": "PL", "poland": "PL", "roumanie": "RO", "romania": "RO",
    "grece": "GR", "greece": "GR", "suede": "SE", "sweden": "SE",
    "danemark": "DK", "denmark": "DK", "norvege": "NO", "norway": "NO",
    "finlande": "FI", "finland": "FI",
    "etats unis": "US", "etats unis d amerique": "US", "united states": "US",
    "united states of america": "US", "usa": "US",
    "canada": "CA", "bresil": "BR", "brazil": "BR", "chine": "CN", "china": "CN",
    "japon": "JP", "japan": "JP", "turquie": "TR", "turkey": "TR",
    "senegal": "SN", "cote d ivoire": "CI", "ivory coast": "CI", "cameroun": "CM",
    "cameroon": "CM", "madagascar": "MG", "mali": "ML", "haiti": "HT",
    "liban": "LB", "lebanon": "LB", "israel": "IL", "russie": "RU", "russia": "RU",
    "ukraine": "UA", "inde": "IN", "india": "IN", "vietnam": "VN", "viet nam": "VN",
    "guadeloupe": "GP", "martinique": "MQ", "guyane": "GF", "guyane francaise": "GF",
    "reunion": "RE", "la reunion": "RE", "ile de la reunion": "RE", "mayotte": "YT",
    "nouvelle caledonie": "NC", "polynesie francaise": "PF",
    "saint pierre et miquelon": "PM", "saint barthelemy": "BL", "saint martin": "MF",
    "wallis et futuna": "WF",
}


@lru_cache(maxsize=4096)
def normalise_country(raw: str | None) -> Normalised:
    """Alpha-2 value and key ("France", "FRA", "fr" → "FR"); "unknown" otherwise.

    Overseas departments keep their own ISO code (Guadeloupe → "GP"), as La Poste
    and the phone numbering plan do.
    """
    words = word_key(raw or "")
    if not words:
        return MISSING if not (raw or "").strip() else rejected("unknown")
    code = _NAMES.get(words)
    if code is None and len(words) == 2 and words.upper() in _ALPHA2:
        code = words.upper()
    if code is None:
        code = _ALPHA3.get(words)
    if code is None:
        return rejected("unknown")
    return Normalised(code, code)
