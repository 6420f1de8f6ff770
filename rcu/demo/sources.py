"""The four demo sources' file formats: name, encoding, delimiter, columns, identifiers.

Each format is what the real system exports: the CRM a Windows-1252 semicolon CSV, the
e-shop JSON Lines, the tills a plain comma CSV, customer service an Excel-saved CSV (UTF-8
with a byte-order mark, semicolons). `examples/sources/<code>.json` maps these columns to
the canonical attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceFormat:
    code: str
    file_name: str
    kind: str  # "csv" or "jsonl"
    encoding: str
    columns: tuple[str, ...]
    external_id: str
    # Builds the external id from the record's rank in the file; None when the row brings
    # its own (a till record is keyed by its loyalty card number).
    numbering: Callable[[int], str] | None
    delimiter: str = ","
    line_terminator: str = "\n"
    integer_columns: tuple[str, ...] = ()


CRM = SourceFormat(
    code="crm",
    file_name="crm.csv",
    kind="csv",
    encoding="cp1252",
    delimiter=";",
    line_terminator="\r\n",
    columns=(
        "ID_CLIENT",
        "CIVILITE",
        "PRENOM",
        "NOM",
        "DATE_NAISS",
        "EMAIL",
        "TEL_FIXE",
        "TEL_PORTABLE",
        "NUM_VOIE",
        "LIBELLE_VOIE",
        "COMPLEMENT",
        "CP",
        "VILLE",
        "PAYS",
        "NUM_CARTE",
        "DATE_MAJ",
    ),
    external_id="ID_CLIENT",
    numbering=lambda rank: f"CRM{rank:06d}",
)

ESHOP = SourceFormat(
    code="eshop",
    file_name="eshop.jsonl",
    kind="jsonl",
    encoding="utf-8",
    columns=(
        "customer_id",
        "email",
        "firstname",
        "lastname",
        "birthdate",
        "phone",
        "street",
        "street2",
        "zip",
        "city",
        "country_code",
        "updated_at",
    ),
    external_id="customer_id",
    numbering=lambda rank: str(100_000 + rank),
    integer_columns=("customer_id",),
)

CAISSE = SourceFormat(
    code="caisse",
    file_name="caisse.csv",
    kind="csv",
    encoding="utf-8",
    columns=("CARTE", "NOM", "PRENOM", "TEL", "CP", "VILLE", "MAGASIN", "DATE_DERNIER_ACHAT"),
    external_id="CARTE",
    numbering=None,
)

SERVICE_CLIENT = SourceFormat(
    code="service_client",
    file_name="service_client.csv",
    kind="csv",
    encoding="utf-8-sig",
    delimiter=";",
    line_terminator="\r\n",
    columns=(
        "ID_CONTACT",
        "CIVILITE",
        "NOM",
        "PRENOM",
        "EMAIL",
        "TELEPHONE",
        "ADRESSE",
        "CP",
        "VILLE",
        "DATE_CONTACT",
    ),
    external_id="ID_CONTACT",
    numbering=lambda rank: f"SC{rank:07d}",
)

SOURCE_FORMATS: dict[str, SourceFormat] = {f.code: f for f in (CRM, ESHOP, CAISSE, SERVICE_CLIENT)}

TRUTH_FILE_NAME = "truth.csv"
TRUTH_COLUMNS: tuple[str, ...] = ("source", "external_id", "person_id")
