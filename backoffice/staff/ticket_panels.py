"""Read-only panels of the Ticket page, drawn from the ``TicketView`` read model. Mail text
is shown literally: bodies, subjects and attachment names through ``st.text``/``st.code``,
and anything mail-supplied inside a Markdown-rendering element (expander labels, alerts)
through ``literal``, so no image loads and no link forms."""

from __future__ import annotations

import streamlit as st

from backoffice.markdown_text import literal
from backoffice.staff import format
from core.accounts.snapshot import AccountSnapshot
from core.decisions.approval_state import ApprovalState
from core.inbound.evidence_kind import EvidenceKind
from core.tickets.views import EvidenceView, MessageView, NoteView, TicketView
from core.verification import VerificationReport
from core.verification.outcome import Recommendation, Strength

RESULT_LABEL = {"pass": "PASS", "weak": "WEAK", "fail": "FAIL"}
CHECK_LABEL = {"account": "Account", "sender_address": "Sender address"}
"""Checks that are not an evidence kind; the others read as their evidence kind's label."""
LONG_EVIDENCE = frozenset({EvidenceKind.SSH_SIGNATURE})


def requester(view: TicketView) -> str:
    """``Name <email>`` or the address alone, as plain text."""
    name = view.requester_name.strip()
    return f"{name} <{view.requester_email}>" if name else view.requester_email


def thread(view: TicketView) -> None:
    st.subheader("Conversation")
    if not view.messages:
        st.caption("No messages yet.")
    for message in view.messages:
        _message(message)


def _message(message: MessageView) -> None:
    """The requester's mail open, ours collapsed and addressed "to <requester> · from
    support", so the support address never reads as the requester's."""
    if message.inbound:
        label = f"From {literal(message.sender)}"
    else:
        label = f"To {literal(message.recipient)} · from support"
    label += f" · {format.when(message.at)}"
    with st.expander(label, expanded=message.inbound, icon=_icon(message)):
        st.text(f"Subject: {message.subject}")
        if message.authenticity:
            st.text(f"Sender authenticity: {message.authenticity}")
        st.code(message.body or "(no text)", language=None, wrap_lines=True)
        if message.reading_notes:
            st.caption(literal("Read simplified: " + "; ".join(message.reading_notes) + "."))
        if message.attachments:
            st.text("Attachments: " + ", ".join(message.attachments))


def _icon(message: MessageView) -> str:
    return ":material/call_received:" if message.inbound else ":material/call_made:"


def evidence(items: list[EvidenceView]) -> None:
    st.subheader("Evidence")
    if not items:
        st.caption(
            "No evidence found in the mail yet: no account name, key, fingerprint, signature "
            "or token. Ask the requester for more information."
        )
        return
    for item in items:
        with st.container(border=True):
            st.markdown(f"**{item.label}**")
            if item.fingerprint:
                st.text(f"Fingerprint: {item.fingerprint}")
            if item.kind in LONG_EVIDENCE:
                with st.expander("Show the signature"):
                    st.code(item.value, language=None, wrap_lines=True)
            else:
                st.code(item.value, language=None, wrap_lines=True)


def report(rep: VerificationReport) -> None:
    st.subheader("Verification")
    strength = Strength(rep.strength).label
    recommendation = Recommendation(rep.recommendation).label
    st.markdown(f"Evidence: **{strength}** · Recommendation: **{recommendation}**")
    st.text(rep.summary)
    for flag in rep.flags:
        st.warning(literal(flag), icon=":material/flag:")
    for check in rep.checks:
        name = CHECK_LABEL.get(check.name) or EvidenceKind.label_of(check.name)
        st.text(f"[{RESULT_LABEL.get(check.result, check.result)}] {name}: {check.reason}")


def account(snapshot: AccountSnapshot | None) -> None:
    st.subheader("Account")
    if snapshot is None:
        st.caption(
            "No single account matches this ticket's claims or sender, so nothing can be "
            "checked against an account yet. Ask the requester which account it is."
        )
        return
    st.markdown(f"**{literal(snapshot.username)}** · {literal(snapshot.email)}")
    codes = (
        f" · {snapshot.recovery_codes_left} recovery codes left"
        if snapshot.recovery_codes_left is not None
        else ""
    )
    st.text(f"Two-factor authentication: {snapshot.two_factor}{codes}")
    st.text(f"Account created {format.when(snapshot.created_at)}")
    st.caption(f"SSH keys ({len(snapshot.ssh_keys)})")
    if not snapshot.ssh_keys:
        st.text("No SSH key registered.")
    for key in snapshot.ssh_keys:
        st.text(f"{key.key_type} {key.fingerprint} {key.comment}".rstrip())
    st.caption(f"Access tokens ({len(snapshot.tokens)})")
    if not snapshot.tokens:
        st.text("No access token.")
    for token in snapshot.tokens:
        state = "active" if token.active else "revoked or expired"
        st.text(f"{token.masked} {token.name} · {state}")
    st.caption("Recent security events")
    if not snapshot.events:
        st.text("None recorded.")
    for event in snapshot.events:
        st.text(f"{format.when(event.at)} · {event.what} · by {event.by}")


def notes(items: list[NoteView]) -> None:
    st.subheader("Internal notes")
    if not items:
        st.caption("No notes yet. Notes are for staff only and never emailed.")
    for note in items:
        st.caption(f"{literal(note.author)} · {format.when(note.at)}")
        st.text(note.body)


def approval(state: ApprovalState | None) -> None:
    """Who approved and who confirmed, and the scheduled 2FA reset: when it takes effect,
    or that it took effect or the owner cancelled it."""
    if state is None or (state.asked_by is None and state.reset is None):
        return
    st.subheader("Approval")
    if state.reason:
        st.text(f"Two people: {state.reason}")
    if state.asked_by:
        st.text(f"Approved first by {state.asked_by} on {format.when(state.asked_at)}")
        st.text(f"Confirmed by {state.confirmed_by or '— waiting for a different staff member'}")
    reset = state.reset
    if reset is None:
        return
    if reset.status == "pending":
        st.info(
            f"2FA reset pending: takes effect on {format.when(reset.due_at)} unless the owner "
            "cancels it with the emailed link.",
            icon=":material/schedule:",
        )
    elif reset.status == "applied":
        st.text(f"2FA reset applied on {format.when(reset.applied_at)}")
    else:
        st.warning(
            f"2FA reset cancelled by the owner on {format.when(reset.cancelled_at)}: it will "
            "not apply.",
            icon=":material/block:",
        )
