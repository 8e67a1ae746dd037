"""One ticket: conversation, evidence, verification, account snapshot, notes, and the
actions (claim, note, request information, approve, deny). A decision is previewed as the
exact email it will send and needs a second click to confirm; it is made against the ticket
version that was previewed, so a change in between is refused, not overwritten."""

from __future__ import annotations

import streamlit as st

from backoffice.markdown_text import literal
from backoffice.staff import format, state, ticket_panels
from core.decisions import (
    approve_ticket,
    deny_ticket,
    preview_decision_email,
    request_more_information,
)
from core.decisions.emails import require_decision_text
from core.errors import DomainError
from core.staff import StaffIdentity, can_decide
from core.tickets.leases import claim_ticket, release_ticket
from core.tickets.notes import add_note
from core.tickets.numbers import parse_ticket_number
from core.tickets.reading import get_ticket
from core.tickets.status import TicketStatus
from core.tickets.views import TicketView, ticket_view
from core.verification import verify_ticket

PENDING = "ticket_pending_action"
ACTIONS = {
    "Request more information": ("more_information_needed", "Message to the requester"),
    "Approve": ("approved", "Override reason"),
    "Deny": ("denied", "Reason (sent to the requester)"),
}
# The form starts on the recommendation's action; anything else (ask for more, review
# first) starts on "Request more information", the one that changes no account.
DEFAULT_ACTION = {"approve": "Approve", "deny": "Deny"}
DONE = {
    "approved": "approved; the email is queued and the two-factor reset is done or scheduled "
    "(see Approval).",
    "denied": "denied; the email is queued.",
    "awaiting_user": "asked the requester for more information; the email is queued.",
    "awaiting_confirmation": (
        "your approval is recorded. It needs a second person: a different staff member (an "
        "admin for a staff or high-value account) must confirm it; nothing has changed on the "
        "account yet."
    ),
}


def pick_another(message: str | None = None) -> None:
    """The box to open a ticket by number (after a mistyped one, too). The wrong number
    leaves the address, so the sidebar's Ticket link (or a reload) starts over cleanly."""
    if message:
        st.error(message, icon=":material/search_off:")
        st.query_params.pop("ticket", None)
    number = st.number_input(
        "Ticket number", min_value=1, max_value=2**31 - 1, step=1, value=None, key="t_pick"
    )
    if number is not None:
        st.session_state.pop("t_pick", None)
        st.query_params["ticket"] = str(int(number))
        st.rerun()


def selected_ticket_id() -> int | None:
    """The ticket in the address; anything that is not a ticket number is said so, never
    looked up."""
    raw = st.query_params.get("ticket")
    number = parse_ticket_number(raw)
    if number is not None:
        return number
    st.title("Ticket")
    if raw:
        pick_another(f"“{literal(raw[:40])}” is not a ticket number.")
    else:
        st.caption("Open a ticket from the queue, or enter its number.")
        pick_another()
    st.stop()


def run(action, **kwargs):
    """Call a service in its own unit of work; a domain error becomes one line (None)."""
    try:
        with state.db() as s:
            return action(s, clock=state.clock(), **kwargs) or True
    except DomainError as exc:
        state.show_error(exc)
        return None


def reverify(session, *, ticket_id: int, clock) -> None:
    verify_ticket(session, get_ticket(session, ticket_id), clock=clock)


def claim_bar(staff: StaffIdentity, view: TicketView) -> bool:
    """Lease controls; True when ``staff`` may act (the ticket is free or theirs)."""
    holder = view.lease
    mine = holder is not None and holder.assignee == staff.username
    with st.container(horizontal=True, vertical_alignment="center"):
        if holder is None:
            st.caption("Nobody is working on this ticket.")
            claim = st.button("Claim", key="t_claim", help="Keep it for yourself for a while.")
            if claim and run(claim_ticket, ticket_id=view.id, staff=staff.username):
                state.flash(f"You claimed ticket #{view.id}.")
                st.rerun()
        elif mine:
            st.caption(f"Claimed by you until {format.when(holder.until)}.")
            if st.button("Extend", key="t_extend") and run(
                claim_ticket, ticket_id=view.id, staff=staff.username
            ):
                st.rerun()
            if st.button("Release", key="t_release") and run(
                release_ticket, ticket_id=view.id, staff=staff.username
            ):
                st.rerun()
        else:
            st.warning(
                f"{literal(holder.assignee)} is handling this ticket until "
                f"{format.when(holder.until)}; you can read it and add notes, but not decide.",
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


def decision_form(staff: StaffIdentity, view: TicketView) -> None:
    st.subheader("Decide")
    pending = st.session_state.get(PENDING)
    if pending and pending["ticket_id"] == view.id:
        confirm(staff, pending)
        return
    labels = list(ACTIONS)
    default = DEFAULT_ACTION.get(view.report.recommendation, "Request more information")
    st.session_state.setdefault("t_action", default)
    label = st.radio(
        "Action",
        labels,
        key="t_action",
        horizontal=True,
        help="Starts on what verification recommends.",
    )
    kind, text_label = ACTIONS[label]
    help_text = None
    strength = view.report.strength
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
            require_decision_text(kind, text)
            with state.db(readonly=True) as s:
                email = preview_decision_email(
                    s, ticket_id=view.id, kind=kind, reason=text, clock=state.clock()
                )
        except DomainError as exc:
            state.show_error(exc)
            return
        st.session_state[PENDING] = {
            "ticket_id": view.id,
            "label": label,
            "kind": kind,
            "text": text,
            "version": view.version,
            "subject": email.subject,
            "body": email.text,
        }
        st.rerun()


def confirm(staff: StaffIdentity, pending: dict) -> None:
    st.markdown(f"**{pending['label']}**: this email will be sent.")
    st.text(f"Subject: {pending['subject']}")
    st.code(pending["body"], language=None, wrap_lines=True)
    with st.container(horizontal=True):
        go = st.button("Confirm and send", key="t_confirm", type="primary")
        if st.button("Cancel", key="t_cancel", help="Back to the form, as you left it."):
            st.session_state.pop(PENDING, None)
            st.session_state["t_action"] = pending["label"]
            st.session_state[f"t_text_{pending['kind']}"] = pending["text"]
            st.rerun()
    if not go:
        return
    common = {
        "ticket_id": pending["ticket_id"],
        "staff": staff,
        "expected_version": pending["version"],
    }
    kind, text = pending["kind"], pending["text"]
    if kind == "approved":
        decision = run(approve_ticket, reason=text or None, **common)
    elif kind == "denied":
        decision = run(deny_ticket, reason=text, **common)
    else:
        decision = run(request_more_information, message=text, **common)
    st.session_state.pop(PENDING, None)
    if decision:
        status = getattr(decision, "status", "")
        sentence = f"Ticket #{pending['ticket_id']}: {DONE.get(status, 'done.')}"
        state.flash(sentence, "info" if status != "approved" else "success")
        st.rerun()


def decided(view: TicketView) -> None:
    """The outcome of a decided ticket; only an approval is green."""
    reason = f": {literal(view.decision_reason)}" if view.decision_reason else ""
    sentence = (
        f"{view.status.label} by {literal(view.decided_by or 'support')} "
        f"on {format.when(view.decided_at)}{reason}"
    )
    if view.status == TicketStatus.APPROVED:
        st.success(sentence, icon=":material/check_circle:")
    elif view.status == TicketStatus.DENIED:
        st.error(sentence, icon=":material/block:")
    else:
        st.info(sentence)


staff = state.current_staff()
ticket_id = selected_ticket_id()
try:
    with state.db(readonly=True) as s:
        view = ticket_view(s, ticket_id, clock=state.clock())
except DomainError:
    st.title("Ticket")
    pick_another(f"No ticket #{ticket_id}. Check the number and try again.")
    st.stop()

st.title(f"#{view.id} · {literal(view.subject)}", anchor=False)
st.caption(
    f"{view.status.label} · from {literal(ticket_panels.requester(view))} · received "
    f"{format.when(view.created_at)} ({format.age(state.clock()() - view.created_at)} ago)"
)
if view.flagged and view.flag_reason:
    st.warning(f"Flagged: {literal(view.flag_reason)}", icon=":material/flag:")
left, right = st.columns([3, 2], gap="large")
with left:
    ticket_panels.thread(view)
    ticket_panels.evidence(view.evidence)
    ticket_panels.notes(view.notes)
    note_form(staff, view.id)
with right:
    ticket_panels.report(view.report)
    ticket_panels.account(view.account)
    ticket_panels.approval(view.approval)
    if not view.is_open:
        decided(view)
    elif not can_decide(staff.role):
        st.caption("Your role can read tickets but not decide them.")
    elif claim_bar(staff, view):
        if st.button(
            "Re-check evidence",
            key="t_verify",
            help="Run verification again and store the report (the queue shows it).",
        ) and run(reverify, ticket_id=view.id):
            state.flash("Verification re-run.", "info")
            st.rerun()
        decision_form(staff, view)
