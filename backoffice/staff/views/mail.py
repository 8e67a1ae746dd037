"""Mail: the outbox (queued, sent, failed with the server's reply; retry a failed email),
the captured mailbox in demo mode, and quarantined inbound mail with a re-process button."""

from __future__ import annotations

import email
import email.policy

import streamlit as st

from backoffice.staff import format, state
from core.errors import DomainError
from core.inbound import list_quarantined, reprocess_quarantined
from core.mail.capture import captured
from core.settings import get_settings
from core.stats.mail import OUTBOX_STATUSES, recent_outbox, retry_email

staff = state.current_staff()
st.title("Mail")
outbox_tab, capture_tab, quarantine_tab = st.tabs(["Outbox", "Captured (demo)", "Quarantined"])

with outbox_tab:
    statuses = st.multiselect("Status", OUTBOX_STATUSES, key="m_status", help="Empty: all.")
    with state.db(readonly=True) as s:
        rows = recent_outbox(s, statuses=tuple(statuses))
    st.dataframe(
        [
            {
                "id": r.id,
                "Status": r.status,
                "Template": r.template,
                "To": r.to_addr,
                "Subject": r.subject,
                "Attempts": r.attempts,
                "Ticket": r.ticket_id,
                "Queued": format.when(r.created_at),
                "Sent": format.when(r.sent_at),
                "Error": r.last_error or "",
            }
            for r in rows
        ],
        hide_index=True,
    )
    failed = [r.id for r in rows if r.status == "failed"]
    if failed:
        chosen = st.selectbox("Failed email", failed, key="m_retry_id")
        if st.button("Retry", key="m_retry", help="Queue it again, due now."):
            try:
                with state.db() as s:
                    retry_email(s, email_id=chosen, actor=f"staff:{staff.username}")
                state.flash(f"Email {chosen} is queued again.")
                st.rerun()
            except DomainError as exc:
                state.show_error(exc)

with capture_tab:
    directory = get_settings().capture_dir
    if directory is None:
        st.caption("No local capture: outgoing mail goes to the configured SMTP server.")
    else:
        messages = list(reversed(captured(directory)))
        st.caption(f"{len(messages)} messages received by the local capture, newest first.")
        for stored in messages[:50]:
            message = email.message_from_bytes(stored.as_bytes(), policy=email.policy.default)
            with st.expander(f"{message['To']} · {message['Subject']}"):
                body = message.get_body(("plain",))
                text = body.get_content() if body is not None else "(no plain-text part)"
                st.code(text, language=None, wrap_lines=True)

with quarantine_tab:
    with state.db(readonly=True) as s:
        held = list_quarantined(s)
    if not held:
        st.caption("Nothing quarantined.")
    for row in held:
        with st.container(border=True):
            st.text(f"#{row.id} · {row.message_id} · {format.when(row.received_at)} · {row.source}")
            st.text(f"Reason: {row.reason}")
            if st.button("Re-process", key=f"m_reprocess_{row.id}"):
                try:
                    with state.db() as s:
                        outcome = reprocess_quarantined(
                            s, row.id, actor=staff.actor, clock=state.clock()
                        )
                    state.flash(f"Message #{row.id}: {outcome.status}.", "info")
                    st.rerun()
                except DomainError as exc:
                    state.show_error(exc)
