"""Mail: the outbox (queued, sent, failed with the server's reply; retry a failed email),
the captured mailbox in demo mode, and quarantined inbound mail with a re-process button."""

from __future__ import annotations

import email
import email.policy

import streamlit as st

from backoffice.markdown_text import literal
from backoffice.staff import format, state
from core.csv_export import rows_to_csv
from core.errors import DomainError
from core.inbound import list_quarantined, reprocess_quarantined
from core.mail.capture import captured
from core.mail.outbox_status import OutboxStatus
from core.mail.outbox_views import outbox_counts, outbox_lines
from core.settings import get_settings
from core.staff.roles import ROLE_ACTIONS
from core.stats.mail import retry_email

staff = state.current_staff()
may_retry = staff.role in ROLE_ACTIONS["mail.retry"]
may_reprocess = staff.role in ROLE_ACTIONS["mail.reprocess"]
st.title("Mail")
outbox_tab, capture_tab, quarantine_tab = st.tabs(["Outbox", "Captured (demo)", "Quarantined"])

with outbox_tab:
    with state.db(readonly=True) as s:
        counts = outbox_counts(s)
    with st.container(horizontal=True):
        for status, count in counts.items():
            st.metric(status.label, f"{count:,}")
    statuses = st.multiselect(
        "Status",
        list(OutboxStatus),
        format_func=lambda s: OutboxStatus(s).label,
        key="m_status",
        help="Empty: all.",
    )
    with state.db(readonly=True) as s:
        lines = outbox_lines(s, statuses=tuple(statuses))
    rows = [
        {
            "Status": line.status.label,
            "Queued (UTC)": format.short_when(line.queued_at),
            "Sent (UTC)": format.short_when(line.sent_at),
            "Attempts": line.attempts,
            "Error": format.text(line.error),
            "Email": line.what,
            "To": line.to_addr,
            "Ticket": format.text(line.ticket_id and f"#{line.ticket_id}"),
            "Subject": line.subject,
        }
        for line in lines
    ]
    if rows:
        st.dataframe(
            rows,
            hide_index=True,
            width="stretch",
            column_config={
                "Status": st.column_config.TextColumn(width=60),
                "Queued (UTC)": st.column_config.TextColumn(width=95),
                "Sent (UTC)": st.column_config.TextColumn(width=95),
                "Attempts": st.column_config.NumberColumn(width=65),
                "Error": st.column_config.TextColumn(width=110),
                "Email": st.column_config.TextColumn(width=150),
                "To": st.column_config.TextColumn(width=140),
                "Ticket": st.column_config.TextColumn(width=50),
                "Subject": st.column_config.TextColumn(width=130),
            },
        )
        st.download_button(
            "Download as CSV",
            rows_to_csv(rows),
            file_name="outbox.csv",
            mime="text/csv",
            key="m_csv",
            help="Cells that a spreadsheet would run as a formula are written as text.",
        )
    elif statuses:
        st.info("No email in these statuses. Clear Status to see every email.")
    else:
        st.info(
            "No email queued yet. Acknowledgements, decisions and security notices appear "
            "here as soon as they are queued."
        )
    failed = [line for line in lines if line.status == OutboxStatus.FAILED]
    if failed and not may_retry:
        st.caption("Retrying a failed email needs an agent or admin; your role reads mail only.")
    elif failed:
        chosen = st.selectbox(
            "Failed email",
            [line.id for line in failed],
            format_func=lambda i: next(
                f"{line.what} to {line.to_addr}" for line in failed if line.id == i
            ),
            key="m_retry_id",
        )
        if st.button("Retry", key="m_retry", help="Queue it again, due now."):
            try:
                with state.db() as s:
                    retry_email(s, email_id=chosen, actor=staff.actor)
                state.flash("The email is queued again.")
                st.rerun()
            except DomainError as exc:
                state.show_error(exc)

with capture_tab:
    directory = get_settings().capture_dir
    if directory is None:
        st.info(
            "No local capture: outgoing mail goes to the configured SMTP server. "
            "(`backoffice demo` captures mail here instead.)"
        )
    else:
        messages = list(reversed(captured(directory)))
        if not messages:
            st.info("Nothing received yet: the outbox sender delivers queued mail every second.")
        else:
            st.caption(f"{len(messages)} messages received by the local capture, newest first.")
        for stored in messages[:50]:
            message = email.message_from_bytes(stored.as_bytes(), policy=email.policy.default)
            with st.expander(f"To {literal(message['To'])} · {literal(message['Subject'])}"):
                body = message.get_body(("plain",))
                text = body.get_content() if body is not None else "(no plain-text part)"
                st.code(text, language=None, wrap_lines=True)

with quarantine_tab:
    with state.db(readonly=True) as s:
        held = list_quarantined(s)
    if not held:
        st.info(
            "Nothing quarantined. Mail that cannot be parsed is kept here with its reason, "
            "never dropped."
        )
    elif not may_reprocess:
        st.caption("Re-processing needs an agent or admin; your role reads mail only.")
    for row in held:
        with st.container(border=True):
            st.text(f"#{row.id} · {row.message_id} · {format.when(row.received_at)} · {row.source}")
            st.text(f"Reason: {row.reason}")
            if may_reprocess and st.button("Re-process", key=f"m_reprocess_{row.id}"):
                try:
                    with state.db() as s:
                        outcome = reprocess_quarantined(
                            s, row.id, actor=staff.actor, clock=state.clock()
                        )
                    state.flash(f"Message #{row.id}: {outcome.status}.", "info")
                    st.rerun()
                except DomainError as exc:
                    state.show_error(exc)
