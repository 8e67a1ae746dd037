"""Ops dashboard: volume, backlog, response and decision times, outcomes, evidence mix and
mail health for a date range; every figure is computed in SQL (``core.stats``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from backoffice.staff import format, state
from core.inbound.evidence_kind import EvidenceKind
from core.stats import ops_report
from core.stats.figures import EXACT_PERCENTILES_UP_TO, PERCENTILE_RELATIVE_ERROR
from core.tickets.status import TicketStatus
from core.verification.outcome import Strength


def labelled(counts: dict[str, int], words: type) -> dict[str, int]:
    """Chart bars named in words (``Waiting for the requester``, not ``awaiting_user``)."""
    out = {}
    for key, count in counts.items():
        try:
            out[words(key).label] = count
        except ValueError:
            out[key] = count
    return out


st.title("Ops")
today = state.clock()().date()
chosen = st.date_input(
    "Tickets received between",
    value=(today - timedelta(days=29), today),
    max_value=today,
    key="ops_range",
    help="Volume, times and outcomes are for tickets received in this range (UTC days).",
)
if not isinstance(chosen, tuple) or len(chosen) != 2:
    st.info("Pick the last day of the range.")
    st.stop()
start = datetime.combine(chosen[0], time.min, UTC)
end = datetime.combine(chosen[1] + timedelta(days=1), time.min, UTC)

with state.db(readonly=True) as s:
    report = ops_report(s, start=start, end=end, clock=state.clock())

with st.container(horizontal=True):
    st.metric("Received", f"{report.received:,}")
    st.metric("Open backlog", f"{sum(report.backlog.values()):,}")
    st.metric("Oldest open ticket", format.age(report.oldest_open_age))
    ratio = report.approval_ratio
    st.metric(
        "Approved / decided",
        "—" if ratio is None else f"{ratio:.0%}",
        help=f"{report.approved} approved, {report.denied} denied",
    )
    st.metric("Outbox queued", report.outbox["queued"])
    st.metric("Outbox failed", report.outbox["failed"])
    st.metric("Quarantined mail", report.quarantined)

with st.container(horizontal=True):
    for name, d in (("first response", report.first_response), ("decision", report.decision)):
        precision = (
            f"Exact for up to {EXACT_PERCENTILES_UP_TO:,} tickets in the range; "
            f"above that read from a log-scale histogram, within "
            f"{PERCENTILE_RELATIVE_ERROR:.0%} of the exact value"
            f" ({'exact' if d.exact else 'approximate'} here, {d.count:,} tickets)."
        )
        st.metric(f"Median time to {name}", format.seconds(d.median_seconds), help=precision)
        st.metric(f"90th percentile to {name}", format.seconds(d.p90_seconds), help=precision)

left, right = st.columns(2)
with left:
    unit = (
        st.segmented_control("Received per", ["day", "week"], default="day", key="ops_unit")
        or "day"
    )
    series = dict(report.received_per_day if unit == "day" else report.received_per_week)
    first = chosen[0] if unit == "day" else chosen[0] - timedelta(days=chosen[0].weekday())
    step = timedelta(days=1 if unit == "day" else 7)
    periods = [first + i * step for i in range((chosen[1] - first) // step + 1)]
    st.bar_chart(  # every period, quiet ones as zero bars rather than left out
        {"Tickets received": {d.isoformat(): series.get(d, 0) for d in periods}}, height=260
    )
    st.caption("Backlog by status")
    st.bar_chart({"Tickets": labelled(report.backlog, TicketStatus)}, horizontal=True, height=160)
with right:
    st.caption("Evidence strength (tickets received in range)")
    st.bar_chart(
        {"Tickets": labelled(report.evidence_strength, Strength)}, horizontal=True, height=160
    )
    st.caption("Evidence kinds (tickets carrying each)")
    st.bar_chart(
        {"Tickets": labelled(report.evidence_kinds, EvidenceKind)}, horizontal=True, height=200
    )
    st.caption("Outcomes (tickets received in range)")
    st.bar_chart({"Tickets": labelled(report.outcomes, TicketStatus)}, horizontal=True, height=200)

st.download_button(
    "Download CSV",
    report.to_csv(),
    file_name=f"ops-{chosen[0]}-{chosen[1]}.csv",
    mime="text/csv",
    key="ops_csv",
)
