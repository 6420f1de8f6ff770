"""The demo data generator: realistic French sources with a trustworthy ground truth.

No database here: the generator is pure Python, so benchmarks can use it alone.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from rcu.attributes import CANONICAL_NAMES
from rcu.demo import (
    EXAMPLES_DIR,
    SOURCE_CODES,
    SOURCE_FORMATS,
    DatasetSpec,
    generate_dataset,
    iter_source_records,
    source_config_paths,
)
from rcu.demo.communes import COMMUNES
from rcu.demo.stores import STORES
from rcu.demo.text import strip_accents

PERSONS = 2500


@dataclass
class Dataset:
    out_dir: Path
    rows: dict[str, list[dict]]  # source code → rows as parsed back
    truth: dict[tuple[str, str], int]  # (source, external id) → person id
    truth_lines: int

    def person(self, code: str, row: dict) -> int:
        return self.truth[(code, str(row[SOURCE_FORMATS[code].external_id]))]


def read_rows(out_dir: Path, code: str) -> list[dict]:
    source = SOURCE_FORMATS[code]
    path = out_dir / source.file_name
    if source.kind == "jsonl":
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines]
    with path.open(encoding=source.encoding, newline="") as text:
        return list(csv.DictReader(text, delimiter=source.delimiter))


def read_dataset(out_dir: Path) -> Dataset:
    with (out_dir / "truth.csv").open(encoding="utf-8", newline="") as text:
        lines = list(csv.DictReader(text))
    truth = {(line["source"], line["external_id"]): int(line["person_id"]) for line in lines}
    rows = {code: read_rows(out_dir, code) for code in SOURCE_CODES}
    return Dataset(out_dir, rows, truth, len(lines))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out_dir = tmp_path_factory.mktemp("demo")
    generate_dataset(DatasetSpec(persons=PERSONS, seed=7), out_dir)
    return read_dataset(out_dir)


def digits(phone: str) -> str:
    """0612345678 whatever the way it was written."""
    only = re.sub(r"\D", "", phone)
    if only.startswith("0033"):
        only = "0" + only[4:]
    elif only.startswith("33") and len(only) == 11:
        only = "0" + only[2:]
    elif len(only) == 9:
        only = "0" + only
    return only


def plain(text: str) -> str:
    return strip_accents(text or "").upper().strip()


# -- determinism and streaming ---------------------------------------------------------------


def test_the_same_spec_gives_byte_identical_files(tmp_path: Path) -> None:
    spec = DatasetSpec(persons=400, seed=3, bad_rows=2)
    first = generate_dataset(spec, tmp_path / "a")
    second = generate_dataset(spec, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["caisse.csv", "crm.csv", "eshop.jsonl", "service_client.csv", "truth.csv"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.records_by_source == second.records_by_source


def test_another_seed_gives_another_base(tmp_path: Path) -> None:
    generate_dataset(DatasetSpec(persons=200, seed=1), tmp_path / "a")
    generate_dataset(DatasetSpec(persons=200, seed=2), tmp_path / "b")
    assert (tmp_path / "a" / "crm.csv").read_bytes() != (tmp_path / "b" / "crm.csv").read_bytes()


def test_streamed_records_are_the_written_ones(tmp_path: Path) -> None:
    spec = DatasetSpec(persons=300, seed=5)
    generate_dataset(spec, tmp_path)
    written = read_dataset(tmp_path)
    streamed = list(iter_source_records(spec))
    assert len(streamed) == written.truth_lines
    for code, row, person_id in streamed:
        assert set(row) == set(SOURCE_FORMATS[code].columns)
        assert all(isinstance(value, str) for value in row.values())
        assert written.truth[(code, row[SOURCE_FORMATS[code].external_id])] == person_id
    caisse = [row for code, row, _ in streamed if code == "caisse"]
    assert caisse == written.rows["caisse"]


def test_fewer_sources_show_the_same_world(tmp_path: Path) -> None:
    generate_dataset(DatasetSpec(persons=500, seed=9), tmp_path / "all")
    summary = generate_dataset(DatasetSpec(persons=500, seed=9, sources=("crm",)), tmp_path / "crm")
    assert list(summary.paths) == ["crm"]
    assert (tmp_path / "all" / "crm.csv").read_bytes() == (
        tmp_path / "crm" / "crm.csv"
    ).read_bytes()


def test_a_records_target_gives_about_that_many_records(tmp_path: Path) -> None:
    summary = generate_dataset(DatasetSpec.for_records(6000, seed=11), tmp_path)
    assert 5700 <= summary.total_records <= 6300
    assert 2.1 <= summary.records_per_person <= 2.35


def test_unknown_sources_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown sources"):
        DatasetSpec(sources=("crm", "erp"))


def test_the_generator_needs_no_database() -> None:
    code = "import sys, rcu.demo; print('django.db' in sys.modules or 'rcu.models' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# -- file formats ----------------------------------------------------------------------------


def test_crm_is_a_windows_1252_semicolon_csv(dataset: Dataset) -> None:
    raw = (dataset.out_dir / "crm.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert text.splitlines()[0].split(";") == list(SOURCE_FORMATS["crm"].columns)
    assert "\r\n" in text
    assert any("é" in row["PRENOM"] + row["NOM"] for row in dataset.rows["crm"])
    assert all(re.fullmatch(r"CRM\d{6}", row["ID_CLIENT"]) for row in dataset.rows["crm"])
    assert all(
        re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", row["DATE_MAJ"]) for row in dataset.rows["crm"]
    )


def test_customer_service_is_an_excel_csv_with_bom(dataset: Dataset) -> None:
    raw = (dataset.out_dir / "service_client.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfID_CONTACT;CIVILITE;")
    assert set(dataset.rows["service_client"][0]) == set(SOURCE_FORMATS["service_client"].columns)
    civilities = Counter(row["CIVILITE"] for row in dataset.rows["service_client"])
    assert set(civilities) == {"Monsieur", "Madame", "M.", "Mme", ""}


def test_tills_write_a_comma_csv_in_capitals(dataset: Dataset) -> None:
    raw = (dataset.out_dir / "caisse.csv").read_bytes()
    assert raw.startswith(b"CARTE,NOM,PRENOM,TEL,CP,VILLE,MAGASIN,DATE_DERNIER_ACHAT\n")
    rows = dataset.rows["caisse"]
    assert all(re.fullmatch(r"29\d{11}", row["CARTE"]) for row in rows)
    names = [row["NOM"] for row in rows if row["NOM"]]
    assert sum(name.isupper() for name in names) / len(names) > 0.8


def test_the_eshop_writes_json_lines(dataset: Dataset) -> None:
    rows = dataset.rows["eshop"]
    assert all(list(row) == list(SOURCE_FORMATS["eshop"].columns) for row in rows)
    assert all(isinstance(row["customer_id"], int) for row in rows)
    assert all(row["email"] for row in rows)  # the login
    birthdates = [row["birthdate"] for row in rows]
    assert 0.2 < sum(b is not None for b in birthdates) / len(rows) < 0.5  # often missing
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", row["updated_at"]) for row in rows)


def test_rows_without_bad_rows_import_cleanly(dataset: Dataset) -> None:
    for code, rows in dataset.rows.items():
        external_id = SOURCE_FORMATS[code].external_id
        assert all(row[external_id] not in ("", None) for row in rows), code
        assert all(None not in row for row in rows), code  # no extra cells


def test_bad_rows_are_malformed_and_left_out_of_the_truth(tmp_path: Path) -> None:
    summary = generate_dataset(DatasetSpec(persons=300, seed=4, bad_rows=8), tmp_path)
    assert sum(summary.bad_rows_by_source.values()) == 8
    with (tmp_path / "truth.csv").open(encoding="utf-8") as text:
        assert sum(1 for _ in text) - 1 == summary.total_records
    crm = (tmp_path / "crm.csv").read_text(encoding="cp1252").splitlines()
    cells = [line.split(";") for line in crm[1:]]
    assert any(len(c) == 16 and c[0] == "" for c in cells)  # a row without its id
    assert any(len(c) < 16 for c in cells)  # a line cut in the middle
    unreadable = 0
    for line in (tmp_path / "eshop.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            unreadable += 1
        else:
            unreadable += "customer_id" not in record
    assert unreadable == summary.bad_rows_by_source["eshop"] == 2


# -- ground truth ----------------------------------------------------------------------------


def test_external_ids_are_unique_within_each_source(dataset: Dataset) -> None:
    for code, rows in dataset.rows.items():
        ids = [str(row[SOURCE_FORMATS[code].external_id]) for row in rows]
        assert len(ids) == len(set(ids)), code


def test_the_truth_covers_every_record_exactly_once(dataset: Dataset) -> None:
    records = {
        (code, str(row[SOURCE_FORMATS[code].external_id]))
        for code, rows in dataset.rows.items()
        for row in rows
    }
    assert dataset.truth_lines == len(dataset.truth) == len(records)
    assert set(dataset.truth) == records
    assert len(set(dataset.truth.values())) == PERSONS


def test_persons_appear_in_one_to_four_sources_about_twice_on_average(dataset: Dataset) -> None:
    sources_of: dict[int, set[str]] = defaultdict(set)
    for (code, _), person in dataset.truth.items():
        sources_of[person].add(code)
    spread = Counter(len(s) for s in sources_of.values())
    assert set(spread) == {1, 2, 3, 4}
    assert 0.25 < spread[1] / PERSONS < 0.4
    assert 2.1 < len(dataset.truth) / PERSONS < 2.35


def test_duplicates_exist_across_and_within_sources(dataset: Dataset) -> None:
    per_source_person = Counter((code, person) for (code, _), person in dataset.truth.items())
    within = {code for (code, _), n in per_source_person.items() if n > 1}
    assert within == set(SOURCE_CODES)
    persons_in = Counter(person for (_, person) in per_source_person)
    assert sum(n > 1 for n in persons_in.values()) > PERSONS / 2


def test_each_eshop_account_logs_in_with_its_own_email(dataset: Dataset) -> None:
    logins = [row["email"].lower() for row in dataset.rows["eshop"]]
    assert len(logins) == len(set(logins))


def test_the_crm_and_the_tills_share_loyalty_cards(dataset: Dataset) -> None:
    cards = {row["CARTE"]: dataset.person("caisse", row) for row in dataset.rows["caisse"]}
    linked = [row for row in dataset.rows["crm"] if row["NUM_CARTE"]]
    assert linked
    assert all(cards[row["NUM_CARTE"]] == dataset.person("crm", row) for row in linked)


# -- realism and hard negatives --------------------------------------------------------------


def test_a_store_phone_is_shared_by_many_unrelated_customers(dataset: Dataset) -> None:
    store_phones = {store.phone for store in STORES}
    persons_by_phone: dict[str, set[int]] = defaultdict(set)
    for row in dataset.rows["caisse"]:
        persons_by_phone[digits(row["TEL"])].add(dataset.person("caisse", row))
    shared = {
        phone: persons for phone, persons in persons_by_phone.items() if phone in store_phones
    }
    assert max(len(persons) for persons in shared.values()) >= 5
    assert len(persons_by_phone["0600000000"]) >= 5


def test_namesakes_in_the_same_town_are_different_persons(dataset: Dataset) -> None:
    persons_by_name: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for row in dataset.rows["crm"]:
        if row["VILLE"]:
            key = (plain(row["PRENOM"]), plain(row["NOM"]), row["CP"])
            persons_by_name[key].add(dataset.person("crm", row))
    assert any(len(persons) > 1 for persons in persons_by_name.values())


def test_common_surnames_come_back_often(dataset: Dataset) -> None:
    surnames = Counter(plain(row["NOM"]) for row in dataset.rows["crm"])
    assert surnames["MARTIN"] >= 10
    persons_named_martin = {
        dataset.person("crm", r) for r in dataset.rows["crm"] if plain(r["NOM"]) == "MARTIN"
    }
    assert len(persons_named_martin) >= 5


def test_household_members_share_a_landline(dataset: Dataset) -> None:
    persons_by_landline: dict[str, set[int]] = defaultdict(set)
    for row in dataset.rows["crm"]:
        number = digits(row["TEL_FIXE"])
        if number and number[1] in "12345":
            persons_by_landline[number].add(dataset.person("crm", row))
    assert sum(len(persons) > 1 for persons in persons_by_landline.values()) >= 5


def test_phones_are_written_many_ways(dataset: Dataset) -> None:
    written = [row["TELEPHONE"] for row in dataset.rows["service_client"] if row["TELEPHONE"]]
    shapes = {
        "spaced": r"0\d( \d\d){4}",
        "dotted": r"0\d(\.\d\d){4}",
        "compact": r"0\d{9}",
        "international": r"\+33 \d( \d\d){4}",
        "double zero": r"0033\d{9}",
        "lost zero": r"[1-9]\d{8}",
    }
    for shape, pattern in shapes.items():
        assert any(re.fullmatch(pattern, phone) for phone in written), shape


def test_a_person_is_garbled_differently_by_each_source(dataset: Dataset) -> None:
    names_of: dict[int, set[str]] = defaultdict(set)
    for code, first, last in (("crm", "PRENOM", "NOM"), ("service_client", "PRENOM", "NOM")):
        for row in dataset.rows[code]:
            names_of[dataset.person(code, row)].add(f"{row[first]}|{row[last]}")
    assert sum(len(names) > 1 for names in names_of.values()) > 50


def test_married_women_appear_under_two_surnames(dataset: Dataset) -> None:
    surnames_of: dict[int, set[str]] = defaultdict(set)
    for row in dataset.rows["crm"] + dataset.rows["service_client"]:
        code = "crm" if "ID_CLIENT" in row else "service_client"
        if row["CIVILITE"] in ("MME", "Madame", "Mme"):
            surnames_of[dataset.person(code, row)].add(plain(row["NOM"]))
    assert sum(len(names) > 1 for names in surnames_of.values()) >= 10


def test_some_customers_moved_between_two_records(dataset: Dataset) -> None:
    postcodes_of: dict[int, set[str]] = defaultdict(set)
    for row in dataset.rows["eshop"]:
        if row["zip"]:
            postcodes_of[dataset.person("eshop", row)].add(row["zip"])
    for row in dataset.rows["crm"]:
        if len(row["CP"]) == 5:
            postcodes_of[dataset.person("crm", row)].add(row["CP"])
    assert sum(len(codes) > 1 for codes in postcodes_of.values()) >= 20


def test_postcodes_and_cities_belong_together(dataset: Dataset) -> None:
    known = {(c.postcode, plain(c.city).replace("-", " ")) for c in COMMUNES}
    pairs = [
        (row["zip"], plain(row["city"]).replace("-", " "))
        for row in dataset.rows["eshop"]
        if row["zip"]
    ]
    assert sum(pair in known for pair in pairs) / len(pairs) > 0.85


def test_birth_dates_lie_between_1935_and_2006_bar_a_few_typos(dataset: Dataset) -> None:
    years = [int(row["DATE_NAISS"][-4:]) for row in dataset.rows["crm"] if row["DATE_NAISS"]]
    inside = sum(1935 <= year <= 2006 for year in years)
    assert inside / len(years) > 0.99


def test_spreadsheet_exports_lose_the_leading_zero_of_postcodes(dataset: Dataset) -> None:
    assert all(len(row["CP"]) in (0, 5) for row in dataset.rows["caisse"])
    assert any(len(row["CP"]) == 4 for row in dataset.rows["service_client"])


# -- source configurations -------------------------------------------------------------------


def test_there_is_one_configuration_per_source() -> None:
    assert source_config_paths() == [EXAMPLES_DIR / f"{code}.json" for code in SOURCE_CODES]
    assert all(path.is_file() for path in source_config_paths())


@pytest.mark.parametrize("code", SOURCE_CODES)
def test_a_configuration_maps_existing_columns_to_known_attributes(code: str) -> None:
    config = json.loads((EXAMPLES_DIR / f"{code}.json").read_text(encoding="utf-8"))
    source = SOURCE_FORMATS[code]
    declared = {item["code"] for item in config["extra_identifiers"]}
    assert config["code"] == code
    assert config["external_id"] in source.columns
    assert config["business_timestamp"]["source"] in source.columns
    for field in config["fields"]:
        assert field["attribute"] in CANONICAL_NAMES or field["attribute"] in declared, field
        columns = field["source"] if isinstance(field["source"], list) else [field["source"]]
        assert set(columns) <= set(source.columns), field
