"""A ``StatsSnapshot`` as JSON (for scripts) or in the Prometheus text exposition format
(for a node-exporter textfile collector or a scrape), written by hand so the app does not
need the client library; the tests parse it with ``prometheus_client``'s own parser."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from core.stats.snapshot import DURATION_WINDOW, StatsSnapshot

PREFIX = "backoffice_"


def _seconds(age: timedelta | None) -> float | None:
    return None if age is None else round(age.total_seconds(), 3)


def snapshot_as_dict(snap: StatsSnapshot) -> dict[str, object]:
    def durations(d) -> dict[str, object]:
        return {
            "window": DURATION_WINDOW,
            "count": d.count,
            "median_seconds": d.median_seconds,
            "p90_seconds": d.p90_seconds,
            "exact": d.exact,
        }

    return {
        "at": snap.at.isoformat(),
        "tickets": {
            "by_status": snap.tickets_by_status,
            "received": snap.received,
            "backlog": snap.backlog,
            "backlog_older_than": snap.backlog_older_than,
            "oldest_open_age_seconds": _seconds(snap.oldest_open_age),
        },
        "first_response": durations(snap.first_response),
        "decision": durations(snap.decision),
        "outbox": {
            **snap.outbox.counts,
            "oldest_waiting_age_seconds": _seconds(snap.outbox.oldest_waiting_age),
        },
        "quarantine": {
            "count": snap.quarantine.count,
            "oldest_age_seconds": _seconds(snap.quarantine.oldest_age),
        },
        "lockouts": {"throttled": snap.lockouts.throttled, "locked": snap.lockouts.locked},
        "workers": [
            {
                "worker_id": w.worker_id,
                "kind": w.kind,
                "host": w.host,
                "pid": w.pid,
                "status": w.status,
                "started_at": w.started_at.isoformat(),
                "last_seen_at": w.last_seen_at.isoformat(),
                "silent_seconds": round(w.silent_for(snap.at), 3),
            }
            for w in snap.workers
        ],
    }


def _label_value(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float | int) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class _Exposition:
    """Collects metric families: HELP and TYPE once, then the samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[dict[str, object], float | int | None]],
    ) -> None:
        present = [(labels, value) for labels, value in samples if value is not None]
        if not present:
            return
        self.lines.append(f"# HELP {PREFIX}{name} {help_text}")
        self.lines.append(f"# TYPE {PREFIX}{name} {kind}")
        for labels, value in present:
            rendered = ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items())
            self.lines.append(
                f"{PREFIX}{name}{{{rendered}}} {_number(value)}"
                if rendered
                else f"{PREFIX}{name} {_number(value)}"
            )

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def snapshot_as_prometheus(snap: StatsSnapshot) -> str:
    out = _Exposition()
    out.family(
        "tickets",
        "gauge",
        "Tickets ever received, by current status.",
        (({"status": s}, n) for s, n in snap.tickets_by_status.items()),
    )
    out.family(
        "tickets_received",
        "gauge",
        "Tickets received in the trailing window.",
        (({"window": w}, n) for w, n in snap.received.items()),
    )
    out.family(
        "tickets_open",
        "gauge",
        "Open tickets by status (the backlog).",
        (({"status": s}, n) for s, n in snap.backlog.items()),
    )
    out.family(
        "tickets_open_older_than",
        "gauge",
        "Open tickets received longer ago than the age label.",
        (({"age": a}, n) for a, n in snap.backlog_older_than.items()),
    )
    out.family(
        "tickets_oldest_open_age_seconds",
        "gauge",
        "Age of the oldest open ticket.",
        [({}, _seconds(snap.oldest_open_age))],
    )
    for name, d, what in (
        ("first_response", snap.first_response, "the first response"),
        ("decision", snap.decision, "the decision"),
    ):
        out.family(
            f"ticket_{name}_seconds",
            "gauge",
            f"Time from receipt to {what}, tickets received in the last {DURATION_WINDOW}.",
            [
                ({"quantile": "0.5", "window": DURATION_WINDOW}, d.median_seconds),
                ({"quantile": "0.9", "window": DURATION_WINDOW}, d.p90_seconds),
            ],
        )
        out.family(
            f"ticket_{name}_count",
            "gauge",
            f"Tickets received in the last {DURATION_WINDOW} that reached {what}.",
            [({"window": DURATION_WINDOW}, d.count)],
        )
    out.family(
        "outbox_emails",
        "gauge",
        "Outbox emails by status.",
        (({"status": s}, n) for s, n in snap.outbox.counts.items()),
    )
    out.family(
        "outbox_oldest_waiting_age_seconds",
        "gauge",
        "How long the oldest queued or sending email has waited (0 when none waits).",
        [({}, _seconds(snap.outbox.oldest_waiting_age) or 0)],
    )
    out.family(
        "quarantined_messages",
        "gauge",
        "Inbound mail kept raw because it could not be parsed.",
        [({}, snap.quarantine.count)],
    )
    out.family(
        "quarantine_oldest_age_seconds",
        "gauge",
        "Age of the oldest quarantined message (0 when none).",
        [({}, _seconds(snap.quarantine.oldest_age) or 0)],
    )
    out.family(
        "second_factor_throttled_accounts",
        "gauge",
        "Accounts whose second factor is waiting out a throttle now.",
        [({}, snap.lockouts.throttled)],
    )
    out.family(
        "second_factor_locked_accounts",
        "gauge",
        "Accounts whose second factor is locked after too many failures.",
        [({}, snap.lockouts.locked)],
    )
    out.family(
        "worker_last_seen_age_seconds",
        "gauge",
        "Seconds since each worker's last heartbeat (stopped workers are left out).",
        (
            (
                {"worker": w.worker_id, "kind": w.kind, "host": w.host, "status": w.status},
                round(w.silent_for(snap.at), 3),
            )
            for w in snap.workers
        ),
    )
    out.family(
        "worker_up",
        "gauge",
        "1 for a worker that says it is running, 0 when degraded (one that died says "
        "nothing more: watch worker_last_seen_age_seconds).",
        (
            ({"worker": w.worker_id, "kind": w.kind, "host": w.host}, int(w.status == "running"))
            for w in snap.workers
        ),
    )
    return out.text()
