"""The ops report: every figure of the Ops page for one date range, and its CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from core.clock import Clock, system_clock
from core.stats import figures, queues
from core.stats.figures import Durations


@dataclass(frozen=True)
class OpsReport:
    start: datetime
    end: datetime
    received_per_day: list[tuple[date, int]]
    received_per_week: list[tuple[date, int]]
    backlog: dict[str, int]
    oldest_open_age: timedelta | None
    first_response: Durations
    decision: Durations
    outcomes: dict[str, int]
    evidence_strength: dict[str, int]
    evidence_kinds: dict[str, int]
    outbox: dict[str, int]
    quarantined: int

    @property
    def received(self) -> int:
        return sum(n for _, n in self.received_per_day)

    @property
    def approved(self) -> int:
        return self.outcomes.get("approved", 0)

    @property
    def denied(self) -> int:
        return self.outcomes.get("denied", 0)

    @property
    def approval_ratio(self) -> float | None:
        """Approved / (approved + denied), None before any decision."""
        decided = self.approved + self.denied
        return self.approved / decided if decided else None

    def figures(self) -> list[tuple[str, str, object]]:
        """(section, name, value) rows: the headline numbers of the CSV export."""
        rows: list[tuple[str, str, object]] = [
            ("range", "start", self.start.isoformat()),
            ("range", "end", self.end.isoformat()),
            ("volume", "received", self.received),
        ]
        rows += [("backlog", status, n) for status, n in self.backlog.items()]
        age = self.oldest_open_age
        rows.append(("backlog", "oldest_open_age_seconds", age.total_seconds() if age else ""))
        for name, d in (("first_response", self.first_response), ("decision", self.decision)):
            rows += [
                (name, "count", d.count),
                (name, "median_seconds", "" if d.median_seconds is None else d.median_seconds),
                (name, "p90_seconds", "" if d.p90_seconds is None else d.p90_seconds),
            ]
        rows += [("outcome", status, n) for status, n in sorted(self.outcomes.items())]
        ratio = self.approval_ratio
        rows.append(("outcome", "approval_ratio", "" if ratio is None else round(ratio, 4)))
        rows += [("evidence_strength", k, n) for k, n in sorted(self.evidence_strength.items())]
        rows += [("evidence_kind", k, n) for k, n in sorted(self.evidence_kinds.items())]
        rows += [("outbox", k, n) for k, n in self.outbox.items()]
        rows.append(("inbound", "quarantined", self.quarantined))
        return rows

    def to_csv(self) -> str:
        """Figures, then the daily series, in one CSV with columns section,name,value."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["section", "name", "value"])
        writer.writerows(self.figures())
        writer.writerows(("received_per_day", d.isoformat(), n) for d, n in self.received_per_day)
        writer.writerows(("received_per_week", d.isoformat(), n) for d, n in self.received_per_week)
        return buffer.getvalue()


def ops_report(
    session: Session, *, start: datetime, end: datetime, clock: Clock = system_clock
) -> OpsReport:
    """Every Ops figure for tickets received in ``[start, end)`` plus the live backlog."""
    received = figures.cohort(session, start=start, end=end)
    outbox = queues.outbox_queue(session, clock=clock)
    return OpsReport(
        start=start,
        end=end,
        received_per_day=received.per_day(),
        received_per_week=received.per_week(),
        backlog=figures.backlog(session),
        oldest_open_age=figures.oldest_open_age(session, clock=clock),
        first_response=figures.durations(session, "first_response", start=start, end=end),
        decision=figures.durations(session, "decision", start=start, end=end),
        outcomes=received.per_status(),
        evidence_strength=received.per_strength(),
        evidence_kinds=figures.evidence_kind_mix(session, start=start, end=end),
        outbox={"queued": outbox.waiting, "failed": outbox.counts["failed"]},
        quarantined=queues.quarantine(session, clock=clock).count,
    )
