"""One ticket: conversation, evidence, verification, account snapshot, notes, and the
actions (claim, note, request information, approve, deny). A decision is previewed as the
exact email it will send and needs a second click to confirm; it is made against the ticket
version that was previewed, so a change in between is refused, not overwritten."""

from __future__ import annotations

import streamlit as st

from backoffice.staff import format, state, ticket_panels
from core.decisions import (
    approve_ticket,
    deny_ticket,
    preview_decision_email,
    request_more_information,
)
from core.errors import DomainError
from core.staff import StaffIdentity, can_decide
from core.store.tables import User
from core.store.tables.tickets import OPEN_STATUSES
from core.tickets.leases import claim_ticket, lease_holder, release_ticket
from core.tickets.notes import add_note, list_notes
from core.tickets.reading import get_ticket, ticket_detail
from core.verification import compute_report, verify_ticket

PENDING = "ticket_pending_action"
ACTIONS = {
    "Request more information": ("more_information_needed", "Message to the requester"),
    "Approve": ("approved", "Override reason"),
    "Deny": ("denied", "Reason (sent to the requester)"),
}


def selected_ticket_id() -> int | None:
    deep_link = state.take_deep_link()
    if deep_link is not None:
        st.query_params["ticket"] = str(deep_link)
        return deep_link
    raw = st.query_params.get("ticket")
    if raw and raw.isdigit():
        return int(raw)
    number = st.number_input("Ticket number", min_value=1, step=1, value=None, key="t_pick")
    if number is not None:
        st.query_params["ticket"] = str(int(number))
        st.rerun()
    return None


def run(action, **kwargs) -> bool:
    """Call a service in its own unit of work; a domain error becomes one line."""
    try:
        with state.db() as s:
            action(s, clock=state.clock(), **kwargs)
    except DomainError as exc:
        state.show_error(exc)
        return False
    return True


def reverify(session, *, ticket_id: int, clock) -> None:
    verify_ticket(session, get_ticket(session, ticket_id), clock=clock)


def claim_bar(staff: StaffIdentity, ticket_id: int, holder) -> bool:
    """Lease controls; True when ``staff`` may act (the ticket is free or theirs)."""
    mine = holder is not None and holder.assignee == staff.username
    with st.container(horizontal=True, vertical_alignment="center"):
        if holder is None:
            st.caption("Nobody is working on this ticket.")
            claim = st.button("Claim", key="t_claim", help="Keep it for yourself for a while.")
            if claim and run(claim_ticket, ticket_id=ticket_id, staff=staff.username):
                state.flash(f"You claimed ticket #{ticket_id}.")
                st.rerun()
        elif mine:
            st.caption(f"Claimed by you until {format.when(holder.until)}.")
            extend = st.button("Extend", key="t_extend")
            if extend and run(claim_ticket, ticket_id=ticket_id, staff=staff.username):
                st.rerun()
            release = st.button("Release", key="t_release")
            if release and run(release_ticket, ticket_id=ticket_id, staff=staff.username):
                st.rerun()
        else:
            st.warning(
                f"{holder.assignee} is handling this ticket until {format.when(holder.until)}; "
                "you can read it and add notes, but not decide.",
            )
    return holder is None or mine


def note_form(staff: StaffIdentity, ticket_id: int) -> None:
    with st.form("note_form", clear_on_submit=True):
        body = st.text_area("Add an internal note", key="t_note", height=80)
        if st.form_submit_button("Add note", key="t_note_add") and run(
            add_note, ticket_id=ticket_id, author=staff.username, body=body
        ):
            state.flash("Note added.")
            st.rerun()


def decision_form(staff: StaffIdentity, ticket, strength: str) -> None:
    st.subheader("Decide")
    pending = st.session_state.get(PENDING)
    if pending and pending["ticket_id"] == ticket.id:
        confirm(staff, pending)
        return
    label = st.radio("Action", list(ACTIONS), key="t_action", horizontal=True)
    kind, text_label = ACTIONS[label]
    help_text = None
    if kind == "approved":
        if strength == "strong":
            text_label += " (optional)"
        elif strength == "weak":
            text_label += " (required: the evidence is weak)"
            help_text = "Recorded in the audit log with your name."
        else:
            st.info("Approval needs strong evidence, or weak evidence with an override reason.")
    text = st.text_area(text_label, key=f"t_text_{kind}", help=help_text, height=100)
    if st.button("Preview email", key="t_preview", type="primary"):
        try:
            with state.db(readonly=True) as s:
                email = preview_decision_email(
                    s, ticket_id=ticket.id, kind=kind, reason=text, clock=state.clock()
                )
        except DomainError as exc:
            state.show_error(exc)
            return
        st.session_state[PENDING] = {
            "ticket_id": ticket.id,
            "label": label,
            "kind": kind,
            "text": text,
            "version": ticket.version,
            "subject": email.subject,
            "body": email.text,
        }
        st.rerun()


def confirm(staff: StaffIdentity, pending: dict) -> None:
    st.markdown(f"**{pending['label']}** — this email will be sent:")
    st.text(f"Subject: {pending['subject']}")
    st.code(pending["body"], language=None, wrap_lines=True)
    with st.container(horizontal=True):
        go = st.button("Confirm and send", key="t_confirm", type="primary")
        if st.button("Cancel", key="t_cancel"):
            st.session_state.pop(PENDING, None)
            st.rerun()
    if not go:
        return
    common = {
        "ticket_id": pending["ticket_id"],
        "staff": staff.username,
        "expected_version": pending["version"],
    }
    kind, text = pending["kind"], pending["text"]
    if kind == "approved":
        ok = run(approve_ticket, reason=text or None, **common)
    elif kind == "denied":
        ok = run(deny_ticket, reason=text, **common)
    else:
        ok = run(request_more_information, message=text, **common)
    st.session_state.pop(PENDING, None)
    if ok:
        done = {"approved": "approved", "denied": "denied"}.get(kind, "sent the request for")
        state.flash(f"Ticket #{pending['ticket_id']}: {done} — the email is queued.")
        st.rerun()


staff = state.current_staff()
ticket_id = selected_ticket_id()
if ticket_id is None:
    st.title("Ticket")
    st.caption("Open a ticket from the queue, or enter its number.")
    st.stop()

now = state.clock()()
try:
    with state.db(readonly=True) as s:
        detail = ticket_detail(s, ticket_id)
        rep = compute_report(s, detail.ticket, clock=state.clock())
        user = s.get(User, rep.user_id) if rep.user_id else None
        notes = list_notes(s, ticket_id)
        ticket = detail.ticket
        st.title(f"#{ticket.id} · {ticket.subject}")
        st.caption(
            f"{ticket.status} · from {ticket.requester_email} · received "
            f"{format.when(ticket.created_at)} ({format.age(now - ticket.created_at)} ago)"
            + (f" · flagged: {ticket.flag_reason}" if ticket.flagged else "")
        )
        left, right = st.columns([3, 2], gap="large")
        with right:
            ticket_panels.report(rep)
            ticket_panels.account_snapshot(s, user, now)
        with left:
            ticket_panels.thread(detail.messages)
            ticket_panels.evidence(detail.evidence)
except DomainError as exc:
    state.show_error(exc)
    st.stop()

with left:
    ticket_panels.notes(notes)
    note_form(staff, ticket.id)
with right:
    if ticket.status not in OPEN_STATUSES:
        st.success(
            f"Decided: {ticket.status} by {ticket.decided_by} {format.when(ticket.decided_at)}"
            + (f" — {ticket.decision_reason}" if ticket.decision_reason else "")
        )
    elif can_decide(staff.role) and claim_bar(staff, ticket.id, lease_holder(ticket, now=now)):
        if st.button(
            "Re-check evidence",
            key="t_verify",
            help="Run verification again and store the report (the queue shows its strength).",
        ) and run(reverify, ticket_id=ticket.id):
            state.flash("Verification re-run.", "info")
            st.rerun()
        decision_form(staff, ticket, rep.strength)
