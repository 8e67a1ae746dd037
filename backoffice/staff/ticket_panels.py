"""Read-only panels of the Ticket page: the thread as plain text, evidence, the verification
report and the account snapshot. Nothing here renders HTML from mail; every text that came
from outside goes through ``st.text``/``st.code`` with access tokens redacted again."""

from __future__ import annotations

from datetime import datetime

import streamlit as st
from sqlmodel import Session

from backoffice.staff import format
from core.accounts.ssh_keys import list_ssh_keys
from core.accounts.tokens import list_tokens, mask_token, redact_tokens, token_is_active
from core.store.tables import Evidence, TicketMessage, TicketNote, User
from core.twofactor import two_factor_status
from core.verification import VerificationReport

RESULT_LABEL = {"pass": "PASS", "weak": "WEAK", "fail": "FAIL"}


def thread(messages: list[TicketMessage]) -> None:
    st.subheader("Conversation")
    if not messages:
        st.caption("No messages.")
    for i, message in enumerate(messages):
        arrow = "→ to requester" if message.direction == "out" else "← from"
        label = f"{arrow} {message.from_addr} · {format.when(message.created_at)}"
        with st.expander(label, expanded=i == len(messages) - 1):
            st.text(f"Subject: {redact_tokens(message.subject)}")
            st.code(redact_tokens(message.body_text), language=None, wrap_lines=True)
            if message.attachments:
                names = ", ".join(str(a.get("filename", "?")) for a in message.attachments)
                st.caption(f"Attachments: {names}")


def evidence(items: list[Evidence]) -> None:
    st.subheader("Evidence")
    if not items:
        st.caption("No evidence extracted yet.")
        return
    st.dataframe(
        [
            {
                "Kind": e.kind,
                "Value": redact_tokens(e.value)[:200],
                "Fingerprint": e.fingerprint or "",
            }
            for e in items
        ],
        hide_index=True,
    )


def report(rep: VerificationReport) -> None:
    st.subheader("Verification")
    st.markdown(
        f"**Evidence: {rep.strength}** · recommendation: **{rep.recommendation}**  \n{rep.summary}"
    )
    for flag in rep.flags:
        st.warning(flag, icon=":material/flag:")
    for check in rep.checks:
        st.text(f"[{RESULT_LABEL.get(check.result, check.result)}] {check.name}: {check.reason}")


def account_snapshot(session: Session, user: User | None, now: datetime) -> None:
    st.subheader("Account")
    if user is None:
        st.caption("No account resolved for this ticket.")
        return
    status = two_factor_status(session, user)
    two_fa = "on" if status.enabled else ("enrolment pending" if status.pending else "off")
    st.markdown(
        f"**{user.username}** · {user.email}  \n2FA: **{two_fa}**"
        + (f" · {status.recovery_codes_left} recovery codes left" if status.enabled else "")
    )
    keys = list_ssh_keys(session, user)
    st.caption(f"SSH keys ({len(keys)})")
    for key in keys:
        st.text(f"{key.key_type} {key.fingerprint_sha256} {key.comment}".rstrip())
    tokens = list_tokens(session, user)
    st.caption(f"Access tokens ({len(tokens)})")
    for token in tokens:
        active = "active" if token_is_active(token, now) else "revoked/expired"
        st.text(f"{mask_token(token.last4)} {token.name} · {active}")
    st.caption("Recent security events")
    for event in status.recent_events:
        st.text(f"{format.when(event.at)} {event.action} by {event.actor}")


def notes(items: list[TicketNote]) -> None:
    st.subheader("Internal notes")
    if not items:
        st.caption("No notes yet. Notes are for staff only and never emailed.")
    for note in items:
        st.caption(f"{note.author} · {format.when(note.created_at)}")
        st.text(note.body)
