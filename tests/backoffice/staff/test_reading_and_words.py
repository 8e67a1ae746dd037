"""Issue #12 items 4, 5, 6 and 11 under ``AppTest``: the conversation reads right (the
requester's mail open, ours collapsed and addressed to the requester from support), keys and
fingerprints are readable, people read words instead of code names, empty tables and dead
ends say what to do, and the faces read core read models (no ``core.store`` import)."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import select

from backoffice.staff import APP_PATH
from core.inbound.evidence_kind import EvidenceKind
from core.mail.outbox_status import OutboxStatus
from core.store import session_scope
from core.store.tables import OutboxEmail
from core.store.tables.tickets import OPEN_STATUSES, TICKET_STATUSES
from core.tickets.status import OPEN, TicketStatus
from core.verification.outcome import Recommendation, Strength
from tests.backoffice.staff.conftest import shown, sign_in
from tests.backoffice.staff.test_pages import decide, open_ticket

CODE_NAMES = (
    "awaiting_user",
    "request_more_information",
    "more_information_needed",
    "two_factor_enabled",
    "ticket_received",
    "2fa.",
    "token.issued",
    "user:alice",
    "ssh_public_key",
    "claimed_username",
)


def everything_shown(at) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "text", "info", "warning", "success")
    parts = [shown(str(e.value)) for kind in kinds for e in getattr(at, kind)]
    parts += [shown(e.label) for e in at.expander] + [m.label for m in at.metric]
    parts += [str(df.value.to_dict("list")) for df in at.dataframe]
    return "\n".join(parts)


def test_conversation_requester_open_ours_collapsed_and_addressed(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    labels = [(shown(e.label), e.proto.expanded) for e in at.expander]
    inbound = [(label, open_) for label, open_ in labels if label.startswith("From ")]
    outbound = [(label, open_) for label, open_ in labels if label.startswith("To ")]
    assert inbound and all(open_ for _, open_ in inbound)
    assert outbound and not any(open_ for _, open_ in outbound)
    assert all(label.startswith("To carol@example.org · from support") for label, _ in outbound)
    assert not any("website@huggingface.co" in label for label, _ in labels)


def test_keys_are_readable_with_their_fingerprints(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    texts = [t.value for t in at.text]
    assert any(t.startswith("Fingerprint: SHA256:") for t in texts)
    assert any(c.value.startswith("ssh-ed25519 AAAA") for c in at.code)
    assert all(c.proto.wrap_lines for c in at.code if c.value.startswith("ssh-"))


def test_words_for_people_not_code_names(world):
    at = open_ticket(sign_in(world, "ann"), world.weak_ticket)
    decide(at, "Request more information", "Please sign the challenge.")
    at.button(key="t_confirm").click().run()
    page = everything_shown(at)
    assert "Waiting for the requester" in page
    for pages in (None, "views/queue.py", "views/mail.py"):
        if pages:
            at.switch_page(pages).run()
        page = everything_shown(at)
        for code in CODE_NAMES:
            assert code not in page, (pages, code)
    assert "Request for more information" in everything_shown(at)  # the outbox, in words


def test_empty_tables_say_why_and_none_is_a_dash(world):
    at = sign_in(world, "ada")
    at.text_input(key="q_search").input("nobody@example.net").run()
    assert any("No ticket matches these filters" in i.value for i in at.info)
    at.switch_page("views/mail.py").run()
    assert any("Nothing quarantined" in i.value for i in at.info)
    outbox = at.dataframe[0].value
    assert set(outbox["Sent (UTC)"]) == {"—"} and set(outbox["Error"]) == {"—"}
    assert {"Status", "Queued (UTC)", "Sent (UTC)", "Error", "Attempts"} <= set(outbox.columns)
    with session_scope(world.engine) as s:
        for row in s.exec(select(OutboxEmail)).all():
            s.delete(row)
    at.run()
    assert any("No email queued yet" in i.value for i in at.info)


def test_admin_changes_a_role_and_deactivates(world):
    at = sign_in(world, "ada")
    at.switch_page("views/staff_admin.py").run()
    assert any("only be changed by another admin" in c.value for c in at.caption)
    at.selectbox(key="s_name").set_value("bob").run()
    at.selectbox(key="s_role_bob").set_value("ops")
    at.toggle(key="s_active_bob").set_value(False)
    at.button(key="s_save").click().run()
    assert "bob is now ops, deactivated." in [s.value for s in at.success]
    table = at.dataframe[0].value.set_index("Username")
    assert (table.loc["bob", "Role"], table.loc["bob", "Access"]) == ("Ops", "Deactivated")


def test_enums_own_their_words_and_match_the_store():
    assert tuple(TicketStatus) == TICKET_STATUSES and tuple(OPEN) == OPEN_STATUSES
    for enum in (TicketStatus, EvidenceKind, OutboxStatus, Recommendation, Strength):
        for member in enum:
            assert member.label and "_" not in member.label, member


def test_no_face_module_imports_the_store():
    faces = [APP_PATH.parent, APP_PATH.parent.parent / "portal"]
    offenders = []
    for path in (p for face in faces for p in Path(face).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[:2] == ["core", "store"]]
    assert offenders == []
