"""The staff queue: one page of tickets, oldest first, filtered and searched in SQL.

Everything runs on indexes so a page costs about the same with a hundred tickets or a
million: the page's ids come from ``ix_tickets_status_created`` (or the partial open-tickets
index) without reading table rows, and a search resolves to equality look-ups on indexed
columns. Totals are counted up to a cap (shown as "1,000+") instead of scanning
every decided ticket."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, or_, select, text
from sqlalchemy.orm import aliased
from sqlmodel import Session

from core.accounts.users import find_user
from core.clock import Clock, system_clock
from core.store.tables import Ticket, User, VerificationReportRow
from core.store.tables.tickets import OPEN_STATUSES, OPEN_STATUSES_SQL, TICKET_STATUSES
from core.store.tables.verification import REPORT_FLAGGED_SQL

COUNT_CAP = 1_000
UNASSIGNED = ""
TICKET_NUMBER_RE = re.compile(r"#?(\d{1,18})")


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = OPEN_STATUSES
    """Empty means every status."""
    evidence: tuple[str, ...] = ()
    """none | weak | strong; empty means any."""
    assignee: str | None = None
    """None: anyone or no one; ``UNASSIGNED`` (""): nobody holds a lease; else that name."""
    older_than_hours: float | None = None
    search: str = ""
    """A ticket number (``123`` or ``#123``), an email address or a username (exact)."""
    recommendations: tuple[str, ...] = ()
    """approve | review | request_more_information | deny (the latest report's); empty: any."""
    flagged_only: bool = False
    """Only tickets flagged at ingestion or whose latest report raises a flag."""


@dataclass(frozen=True)
class QueueRow:
    id: int
    subject: str
    status: str
    created_at: datetime
    age: timedelta
    requester: str
    claimed_account: str
    evidence_strength: str
    assignee: str | None
    flagged: bool
    recommendation: str | None = None
    """The latest verification report's recommendation (None before any report)."""
    flags: tuple[str, ...] = ()
    """Why a closer look is needed: the ingestion flag and the latest report's flags."""


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: Count
    page: int
    page_size: int
    status_counts: dict[str, Count] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total.value // self.page_size))


def _status_condition(statuses: tuple[str, ...]) -> ColumnElement[bool] | None:
    if not statuses or set(statuses) == set(TICKET_STATUSES):
        return None
    if set(statuses) == set(OPEN_STATUSES):
        return text(OPEN_STATUSES_SQL)
    if len(statuses) == 1:
        return Ticket.status == statuses[0]
    return Ticket.status.in_(statuses)


def _search_condition(session: Session, search: str) -> ColumnElement[bool] | None:
    query = search.strip()
    if not query:
        return None
    number = TICKET_NUMBER_RE.fullmatch(query)
    if number:
        return Ticket.id == int(number.group(1))
    user = find_user(session, query)
    terms: list[ColumnElement[bool]] = []
    if user is not None:
        terms.append(Ticket.user_id == user.id)
    if "@" in query:
        email = query.lower()
        terms += [Ticket.requester_email == email, Ticket.claimed_email == email]
    else:
        terms.append(Ticket.claimed_username.in_(sorted({query, query.lower()})))
    return or_(*terms) if terms else false()


def _latest_report_meets(condition: ColumnElement[bool]):
    """Reports of the ticket that meet ``condition`` and have no newer report: at most one,
    its latest. Each ``ix_verification_reports_ticket_latest`` probe reads the index alone."""
    newer = aliased(VerificationReportRow)
    return select(literal(1)).where(
        VerificationReportRow.ticket_id == Ticket.id,
        condition,
        ~exists().where(
            newer.ticket_id == VerificationReportRow.ticket_id,
            newer.id > VerificationReportRow.id,
        ),
    )


def _latest_recommendation_in(recommendations: tuple[str, ...]) -> ColumnElement[bool]:
    """As an EXISTS, so the planner may start from either side: from the reports (by
    ``ix_verification_reports_recommendation``) when few have the recommendation, from the
    tickets when many do."""
    return _latest_report_meets(VerificationReportRow.recommendation.in_(recommendations)).exists()


def _latest_report_flagged() -> ColumnElement[bool]:
    """A scalar subquery, not an EXISTS: probed per ticket in the small partial index of
    flagged reports, where an EXISTS may be planned as a hash of every flagged report ever
    stored (PostgreSQL does, a cost that grows with the history)."""
    flagged = _latest_report_meets(text(REPORT_FLAGGED_SQL)).limit(1).scalar_subquery()
    return flagged.is_not(None)


def _conditions(session: Session, flt: QueueFilter, now: datetime) -> list[ColumnElement[bool]]:
    """Every filter but the status one (the counts per status follow these)."""
    search = _search_condition(session, flt.search)
    conditions = [] if search is None else [search]
    if flt.recommendations:
        conditions.append(_latest_recommendation_in(flt.recommendations))
    if flt.flagged_only:
        conditions.append(or_(Ticket.flagged, _latest_report_flagged()))
    if flt.evidence:
        conditions.append(Ticket.evidence_strength.in_(flt.evidence))
    if flt.older_than_hours is not None:
        conditions.append(Ticket.created_at <= now - timedelta(hours=flt.older_than_hours))
    if flt.assignee == UNASSIGNED:
        conditions.append(
            or_(Ticket.assignee.is_(None), Ticket.lease_until.is_(None), Ticket.lease_until <= now)
        )
    elif flt.assignee is not None:
        conditions.append(and_(Ticket.assignee == flt.assignee, Ticket.lease_until > now))
    return conditions


def capped_count(session: Session, conditions: list[ColumnElement[bool]], cap: int) -> Count:
    """``count(*)`` that stops after ``cap`` rows, so a huge status costs at most ``cap``
    index steps."""
    inner = select(Ticket.id).where(*conditions).limit(cap + 1).subquery()
    value = session.execute(select(func.count()).select_from(inner)).scalar_one()
    return Count(min(value, cap), value > cap)


def status_counts(
    session: Session,
    conditions: list[ColumnElement[bool]] | None = None,
    *,
    cap: int = COUNT_CAP,
    grouped: bool = False,
) -> dict[str, Count]:
    """Tickets per status (each capped), in status order, among those matching
    ``conditions`` (every filter but the status one, so the counts follow the filters).
    ``grouped``: one GROUP BY over every match, for a search, whose few matches its own
    indexes find; counted per status, SQLite walks the whole status's index instead."""
    extra = conditions or []
    if grouped:
        rows = dict(
            session.execute(
                select(Ticket.status, func.count()).where(*extra).group_by(Ticket.status)
            ).all()
        )
        return {s: Count(min(rows.get(s, 0), cap), rows.get(s, 0) > cap) for s in TICKET_STATUSES}
    return {s: capped_count(session, [Ticket.status == s, *extra], cap) for s in TICKET_STATUSES}


def _latest_reports(session: Session, ticket_ids: list[int]) -> dict[int, tuple[str, list[str]]]:
    """Ticket id → (recommendation, flags) of its latest stored report."""
    if not ticket_ids:
        return {}
    latest = (
        select(func.max(VerificationReportRow.id))
        .where(VerificationReportRow.ticket_id.in_(ticket_ids))
        .group_by(VerificationReportRow.ticket_id)
    )
    rows = session.execute(
        select(
            VerificationReportRow.ticket_id,
            VerificationReportRow.recommendation,
            VerificationReportRow.report,
        ).where(VerificationReportRow.id.in_(latest))
    )
    return {r[0]: (r[1], list((r[2] or {}).get("flags", []))) for r in rows}


def queue_page(
    session: Session,
    flt: QueueFilter = QueueFilter(),
    *,
    page: int = 1,
    page_size: int = 50,
    with_counts: bool = True,
    clock: Clock = system_clock,
) -> QueuePage:
    """One page of the queue (1-based), oldest ticket first. The page's ids come from the
    indexes alone (sorting index entries, never table rows); only those rows are then read."""
    now = clock()
    page = max(1, page)
    filters = _conditions(session, flt, now)
    by_status = _status_condition(flt.statuses)
    conditions = filters if by_status is None else [by_status, *filters]
    page_ids = list(
        session.execute(
            select(Ticket.id)
            .where(*conditions)
            .order_by(Ticket.created_at, Ticket.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).scalars()
    )
    account = func.coalesce(User.username, Ticket.claimed_username, Ticket.claimed_email, "")
    stmt = (
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.status,
            Ticket.created_at,
            Ticket.requester_email,
            account,
            Ticket.evidence_strength,
            Ticket.assignee,
            Ticket.lease_until,
            Ticket.flagged,
            Ticket.flag_reason,
        )
        .outerjoin(User, User.id == Ticket.user_id)
        .where(Ticket.id.in_(page_ids))
        .order_by(Ticket.created_at, Ticket.id)
    )
    reports = _latest_reports(session, page_ids)
    rows = [
        QueueRow(
            id=r[0],
            subject=r[1],
            status=r[2],
            created_at=r[3],
            age=now - r[3],
            requester=r[4],
            claimed_account=r[5],
            evidence_strength=r[6],
            assignee=r[7] if r[8] is not None and r[8] > now else None,
            flagged=bool(r[9]),
            recommendation=reports.get(r[0], (None, []))[0],
            flags=tuple(([r[10]] if r[9] and r[10] else []) + reports.get(r[0], (None, []))[1]),
        )
        for r in session.execute(stmt)
    ]
    return QueuePage(
        rows=rows,
        total=capped_count(session, conditions, COUNT_CAP),
        page=page,
        page_size=page_size,
        status_counts=(
            status_counts(
                session,
                filters,
                grouped=bool(flt.search.strip()),
            )
            if with_counts
            else {}
        ),
    )
