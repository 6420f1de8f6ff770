"""Who makes a change: a person (a Django user), or RCU itself doing a job.

Plain Python with no Django import, so that scripts may name an actor before Django
is set up. `rcu.services.changes` records changes with them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemActor:
    """RCU acting on its own: `job` names what did it ("import #12", "matching run #3").

    History rows it writes have no user; the timeline shows them as RCU's, with the
    job in the reason. `started_by_id` is who asked for the job, when someone did.
    """

    job: str
    started_by_id: int | None = None

    def __str__(self) -> str:
        return self.job


# Matching that runs as records arrive: not a person's doing, whoever sent the record.
REALTIME_MATCHING = SystemActor("real-time matching")
