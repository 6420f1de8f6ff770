"""From clusters to golden customers: who keeps which customer, who is retired.

Pure planning over ids; `rcu.services.matching.apply` writes the plan. A cluster keeps
the customer that already holds most of its records (ties: the smallest id), so
re-running a match over an unchanged base changes nothing, and a customer id lives on
wherever most of its records go. A customer left with no record is retired into the
customer that received most of its records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A customer to create for a cluster no existing customer can take."""

    label: int  # the cluster's smallest record id


Target = int | NewCustomer


@dataclass
class AssignmentPlan:
    moves: dict[int, Target] = field(default_factory=dict)  # record → its new customer
    new_customers: list[NewCustomer] = field(default_factory=list)
    retired: dict[int, Target] = field(default_factory=dict)  # customer → survivor
    recompute: set[int] = field(default_factory=set)  # kept customers whose records changed

    @property
    def is_empty(self) -> bool:
        return not (self.moves or self.retired)


def plan_assignment(
    clusters: Iterable[Iterable[int]], current: Mapping[int, int | None]
) -> AssignmentPlan:
    """The moves that turn `current` (record → customer) into `clusters`.

    `clusters` must partition the records of `current` (singletons included).
    """
    ordered = sorted((sorted(members) for members in clusters), key=lambda m: (-len(m), m[0]))
    plan = AssignmentPlan()
    taken: set[int] = set()
    received: dict[int, Counter[Target]] = {}
    for members in ordered:
        holders = Counter(current[r] for r in members if current.get(r) is not None)
        kept: int | None = None
        for customer, _count in sorted(holders.items(), key=lambda item: (-item[1], item[0])):
            if customer not in taken:
                kept = customer
                break
        choice: Target
        if kept is None:
            choice = NewCustomer(members[0])
            plan.new_customers.append(choice)
        else:
            taken.add(kept)
            choice = kept
        for record in members:
            before = current.get(record)
            if before != choice:
                plan.moves[record] = choice
                if before is not None:
                    received.setdefault(before, Counter())[choice] += 1
        if isinstance(choice, int) and any(current.get(r) != choice for r in members):
            plan.recompute.add(choice)
    for customer, destinations in received.items():
        if customer in taken:
            plan.recompute.add(customer)
            continue
        survivor = sorted(destinations.items(), key=lambda item: (-item[1], _order(item[0])))[0][0]
        plan.retired[customer] = survivor
    return plan


def _order(target: Target) -> tuple[int, int]:
    return (1, target.label) if isinstance(target, NewCustomer) else (0, target)
