"""The end-of-run report of an ingest, whose numbers must add up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

OUTCOME_FIELDS = {
    "ticket": "new_tickets",
    "threaded": "threaded",
    "duplicate": "duplicates",
    "auto": "auto",
    "bounce": "bounces",
    "quarantined": "quarantined",
}


@dataclass
class IngestReport:
    """``seen = new_tickets + threaded + duplicates + auto + bounces + quarantined``;
    ``flagged``, ``acknowledged`` and ``reopened`` are subsets, ``source_errors`` lists what
    could not be read at all (and was left at its source)."""

    seen: int = 0
    new_tickets: int = 0
    threaded: int = 0
    duplicates: int = 0
    auto: int = 0
    bounces: int = 0
    quarantined: int = 0
    flagged: int = 0
    acknowledged: int = 0
    reopened: int = 0
    source_errors: list[str] = field(default_factory=list)

    def add(self, outcome) -> None:  # an IngestOutcome; typed loosely to avoid a cycle
        self.seen += 1
        attr = OUTCOME_FIELDS[outcome.status]
        setattr(self, attr, getattr(self, attr) + 1)
        self.flagged += outcome.flagged
        self.acknowledged += outcome.acknowledged
        self.reopened += outcome.reopened

    @property
    def accounted(self) -> int:
        return sum(getattr(self, attr) for attr in OUTCOME_FIELDS.values())

    @property
    def balanced(self) -> bool:
        return self.seen == self.accounted

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "balanced": self.balanced}

    def summary(self) -> str:
        return (
            f"seen {self.seen} = new tickets {self.new_tickets} + threaded {self.threaded}"
            f" + duplicates {self.duplicates} + auto {self.auto} + bounces {self.bounces}"
            f" + quarantined {self.quarantined}"
            f" (flagged {self.flagged}, acknowledged {self.acknowledged},"
            f" reopened {self.reopened}, unreadable {len(self.source_errors)})"
        )
