"""Verify a ticket: run every check on its evidence, store the outcome on the ticket (for the
queue) and as a report row (for the history)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlmodel import Session, select

from core.accounts.ssh_keys import list_ssh_keys
from core.clock import Clock, system_clock
from core.settings import get_settings
from core.store.tables import Evidence, Ticket, TicketMessage, User, VerificationReportRow
from core.store.tables.tickets import OPEN_STATUSES
from core.tickets.challenge import challenge_text
from core.verification.accounts import resolve_account
from core.verification.public_keys import check_public_key, registered_key
from core.verification.report import (
    Check,
    VerificationReport,
    overall_strength,
    recommend,
)
from core.verification.sender_authenticity import authenticity_flags
from core.verification.signatures import SignatureRejected, verify_signature
from core.verification.tokens import check_token


def ticket_evidence(session: Session, ticket_id: int) -> list[Evidence]:
    return list(
        session.exec(select(Evidence).where(Evidence.ticket_id == ticket_id).order_by(Evidence.id))
    )


def senders_of(session: Session, ticket_id: int) -> list[dict[str, Any] | None]:
    """The stored sender authenticity of the ticket's inbound messages, oldest first."""
    return list(
        session.exec(
            select(TicketMessage.sender_auth)
            .where(TicketMessage.ticket_id == ticket_id, TicketMessage.direction == "in")
            .order_by(TicketMessage.id)
        )
    )


def _signature_check(
    session: Session, ticket: Ticket, evidence: Evidence, user: User
) -> tuple[Check, str | None]:
    """The check for one signature, and the signer's fingerprint when verification failed
    after the signer was known (to spot a key of another account)."""
    if evidence.created_at > ticket.challenge_expires_at:
        reason = (
            f"The signature arrived {evidence.created_at:%Y-%m-%d %H:%M} UTC, after the "
            f"challenge expired ({ticket.challenge_expires_at:%Y-%m-%d %H:%M} UTC)."
        )
        return Check("ssh_signature", "fail", reason, evidence.id), None
    try:
        key = verify_signature(
            evidence.value,
            message=challenge_text(ticket),
            namespace=get_settings().sshsig_namespace,
            keys=[k for k in list_ssh_keys(session, user) if k.revoked_at is None],
        )
    except SignatureRejected as exc:
        return Check("ssh_signature", "fail", exc.reason, evidence.id), exc.signer_fingerprint
    reason = (
        f"Valid signature of this ticket's challenge by registered key {key.fingerprint_sha256}."
    )
    return Check("ssh_signature", "pass", reason, evidence.id), None


def compute_report(
    session: Session,
    ticket: Ticket,
    *,
    clock: Clock = system_clock,
    users: Mapping[str, User | None] | None = None,
    evidence: Sequence[Evidence] | None = None,
    senders: Sequence[dict[str, Any] | None] | None = None,
) -> VerificationReport:
    """The report for ``ticket`` as of now; reads only. ``users`` is a ``find_users`` result
    covering the ticket's claims and sender, ``evidence`` the ticket's evidence rows and
    ``senders`` its ``senders_of``, when the caller already has them for a whole batch."""
    now = clock()
    if evidence is None:
        evidence = ticket_evidence(session, ticket.id)
    if senders is None:
        senders = senders_of(session, ticket.id)
    resolution = resolve_account(session, ticket, evidence, users)
    user = resolution.user
    checks = list(resolution.checks)
    flags = list(resolution.flags) + authenticity_flags(senders)
    exposed: list[int] = []
    elsewhere: set[int] = set()

    if user is not None:
        for item in evidence:
            other: int | None = None
            if item.kind in ("ssh_public_key", "fingerprint"):
                check, other = check_public_key(session, item, user)
            elif item.kind == "token":
                check, token, other = check_token(session, item, user, now)
                if token is not None and token.revoked_at is None:
                    exposed.append(token.id)
            elif item.kind == "ssh_signature":
                check, signer = _signature_check(session, ticket, item, user)
                if signer is not None:
                    key = registered_key(session, signer)
                    other = key.user_id if key and key.user_id != user.id else None
            else:
                continue
            checks.append(check)
            if other is not None:
                elsewhere.add(other)
    if elsewhere:
        names = sorted(session.get(User, uid).username for uid in elsewhere)
        flags.append(f"Evidence points to another account ({', '.join(names)}).")

    strength = overall_strength(checks, account_resolved=user is not None)
    recommendation, summary = recommend(
        strength, flags, account_resolved=user is not None, points_elsewhere=bool(elsewhere)
    )
    return VerificationReport(
        ticket_id=ticket.id,
        user_id=user.id if user else None,
        username=user.username if user else None,
        checks=checks,
        flags=flags,
        strength=strength,
        recommendation=recommendation,
        summary=summary,
        computed_at=now,
        exposed_token_ids=sorted(set(exposed)),
    )


def store_report(session: Session, report: VerificationReport) -> VerificationReportRow:
    """Append ``report`` to the ticket's report history (in the caller's transaction)."""
    row = VerificationReportRow(
        ticket_id=report.ticket_id,
        computed_at=report.computed_at,
        user_id=report.user_id,
        strength=report.strength,
        recommendation=report.recommendation,
        report=report.to_dict(),
    )
    session.add(row)
    return row


def verify_ticket(
    session: Session,
    ticket: Ticket,
    *,
    clock: Clock = system_clock,
    new: bool = False,
    users: Mapping[str, User | None] | None = None,
    senders: Sequence[dict[str, Any] | None] | None = None,
) -> VerificationReport:
    """Recompute the report (call it whenever evidence arrives). On an open ticket it also
    stores the resolved account and strength on the ticket and, when the outcome changed,
    appends a report row (so viewing a ticket does not grow its history); a decided ticket
    keeps the report its decision was based on. ``new`` says the ticket was created in this
    transaction, so it has no stored report to compare with, and its rows may wait for the
    caller's next flush (ingestion verifies thousands of new tickets per transaction).
    ``users``, ``senders``: see ``compute_report``."""
    report = compute_report(session, ticket, clock=clock, users=users, senders=senders)
    if ticket.status in OPEN_STATUSES:
        if (ticket.user_id, ticket.evidence_strength) != (report.user_id, report.strength):
            ticket.user_id = report.user_id
            ticket.evidence_strength = report.strength
            session.add(ticket)
        previous = None if new else latest_report(session, ticket.id)
        if previous is None or replace(previous, computed_at=report.computed_at) != report:
            store_report(session, report)
        if not new:
            session.flush()
    return report


def latest_report(session: Session, ticket_id: int) -> VerificationReport | None:
    """The most recently stored report for the ticket, if any."""
    row = session.exec(
        select(VerificationReportRow)
        .where(VerificationReportRow.ticket_id == ticket_id)
        .order_by(VerificationReportRow.id.desc())
    ).first()
    return VerificationReport.from_dict(row.report) if row else None
