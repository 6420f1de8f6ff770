"""The records of a data set, one by one, without keeping the data set in memory.

Persons are drawn in order; each person's records are garbled by the sources that know
them and go through a bounded shuffle window per source, so that a person's two accounts
do not sit on adjacent lines and external ids do not follow person ids. Every source is
rendered even when not selected, so a data set restricted to some sources is exactly the
same world seen through fewer systems.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from rcu.demo.participation import draw_presence
from rcu.demo.people import PersonFactory
from rcu.demo.pools import build_pools
from rcu.demo.source_rows import RowRenderer
from rcu.demo.sources import SOURCE_FORMATS, SourceFormat
from rcu.demo.spec import DatasetSpec
from rcu.demo.stores import loyalty_card_number
from rcu.demo.uniqueness import NumberIssuer

SHUFFLE_WINDOW = 4096

SourceRecord = tuple[str, dict[str, str], int]


class _ShuffledOutput:
    """Releases a source's rows in a shuffled order and numbers them as they leave."""

    def __init__(self, source: SourceFormat, seed: int) -> None:
        self._source = source
        self._rng = random.Random(f"order:{seed}:{source.code}")
        self._pending: list[tuple[dict[str, str], int]] = []
        self._released = 0

    def push(self, row: dict[str, str], person_id: int) -> tuple[dict[str, str], int] | None:
        self._pending.append((row, person_id))
        if len(self._pending) <= SHUFFLE_WINDOW:
            return None
        return self._release()

    def drain(self) -> Iterator[tuple[dict[str, str], int]]:
        while self._pending:
            yield self._release()

    def _release(self) -> tuple[dict[str, str], int]:
        pending = self._pending
        i = int(self._rng.random() * len(pending))
        pending[i], pending[-1] = pending[-1], pending[i]
        row, person_id = pending.pop()
        self._released += 1
        if self._source.numbering is not None:
            row[self._source.external_id] = self._source.numbering(self._released)
        return row, person_id


class DatasetStream:
    """Iterates (source code, row as written, true person id); counts as it goes."""

    def __init__(self, spec: DatasetSpec) -> None:
        self.spec = spec
        self.persons_represented = 0

    def __iter__(self) -> Iterator[SourceRecord]:
        spec = self.spec
        factory = PersonFactory(build_pools(spec.seed), spec.seed)
        renderer = RowRenderer(spec.seed)
        render = {code: renderer.for_source(code) for code in SOURCE_FORMATS}
        presence_rng = random.Random(f"presence:{spec.seed}")
        cards = NumberIssuer(10, f"card:{spec.seed}")
        outputs = {
            code: _ShuffledOutput(SOURCE_FORMATS[code], spec.seed) for code in spec.ordered_sources
        }

        for person_id in range(1, spec.persons + 1):
            person = factory.create(person_id)
            presence = draw_presence(presence_rng)
            for code, count in presence:
                if code == "eshop":
                    # Each web account logs in with an address of its own.
                    while len(person.emails) < count:
                        factory.additional_email(person)
                elif code == "caisse":
                    person.loyalty_cards = [
                        loyalty_card_number(cards.issue()) for _ in range(count)
                    ]
            represented = False
            for code, count in presence:
                output = outputs.get(code)
                for account in range(count):
                    row = render[code](person, account)
                    if output is None:
                        continue
                    represented = True
                    released = output.push(row, person_id)
                    if released is not None:
                        yield code, released[0], released[1]
            if represented:
                self.persons_represented += 1

        for code, output in outputs.items():
            for row, person_id in output.drain():
                yield code, row, person_id


def iter_source_records(spec: DatasetSpec) -> Iterator[SourceRecord]:
    """(source code, row as written, true person id) for every record, streaming.

    Rows hold strings only, "" for an empty field (the e-shop file writes it as null and
    its customer_id as a number).
    """
    return iter(DatasetStream(spec))
