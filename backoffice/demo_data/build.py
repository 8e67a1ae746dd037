"""Build the demo database from the shipped data: Hub accounts with 2FA, SSH keys made by
``ssh-keygen`` and tokens issued by the core, a staff member, and the demo inbox ingested
through the real pipeline (placeholders filled with this run's keys, tokens and a real
signature of the ticket's challenge), then every ticket verified, and two decisions already
under way (``decisions``)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from backoffice.demo_data import ACCOUNTS_FILE, INBOX_DIR
from backoffice.demo_data.decisions import DemoDecisions, make_demo_decisions
from core.accounts.ssh_keys import add_ssh_key
from core.accounts.tokens import issue_token, revoke_token
from core.accounts.users import create_user
from core.clock import Clock, FrozenClock, system_clock
from core.inbound import ingest_bytes
from core.settings import get_settings
from core.staff import StaffEnrolment, create_staff
from core.store import session_scope
from core.tickets.challenge import challenge_text
from core.tickets.reading import get_ticket, list_tickets
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.totp import code_at_step, time_step
from core.verification import verify_ticket

RECEIVED_EVERY = timedelta(hours=3, minutes=17)
"""The inbox is ingested as if it had arrived over the last day, so the queue shows ages."""
ACCOUNTS_AGE = timedelta(days=90)
"""Accounts, their 2FA, keys and tokens date from this long ago, so an account's history
predates the recovery tickets about it, as it would in life."""
PLACEHOLDER_RE = re.compile(r"\{\{([a-z_]+)(?::([\w.-]+))?(?::([\w.-]+))?\}\}")


@dataclass
class DemoWorld:
    staff: StaffEnrolment
    staff_password: str
    portal_user: dict[str, str]
    tickets: dict[str, int] = field(default_factory=dict)
    """Sender's account name → ticket number."""
    ingested: dict[str, str] = field(default_factory=dict)
    """Inbox file → what became of it, in words ("opened ticket #1", "a bounce: recorded")."""
    decisions: DemoDecisions | None = None
    """A reset waiting out its cooling-off and a ticket waiting for a second approver."""


class _Keys:
    """Demo SSH keypairs made with ``ssh-keygen`` in a throw-away folder (never shipped)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, user: str, name: str) -> Path:
        return self.folder / f"{user}-{name}"

    def generate(self, user: str, name: str) -> str:
        path = self.path(user, name)
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"{user}@{name}",
                "-f",
                str(path),
            ],
            check=True,
        )
        return path.with_suffix(".pub").read_text().strip()

    def sign(self, user: str, name: str, message: str) -> str:
        target = self.folder / "challenge.txt"
        target.write_text(message)
        namespace = get_settings().sshsig_namespace
        key = str(self.path(user, name))
        subprocess.run(
            ["ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n", namespace, str(target)],
            check=True,
            capture_output=True,
        )
        signature = target.with_suffix(".txt.sig").read_text()
        target.with_suffix(".txt.sig").unlink()
        return signature


def _outcome_words(outcome) -> str:
    """What became of one demo email, for the printed inbox summary."""
    if outcome.status == "ticket" and outcome.ticket_id is not None:
        return f"opened ticket #{outcome.ticket_id}"
    if outcome.ticket_id is not None:
        return f"joined ticket #{outcome.ticket_id}"
    return {
        "auto": "an auto-reply: recorded, never answered",
        "bounce": "a bounce: recorded, never answered",
    }.get(outcome.status, f"{outcome.status}: recorded")


def build_demo(engine: Engine, *, staff_password: str, clock: Clock = system_clock) -> DemoWorld:
    """Fill the (fresh) database behind ``engine``; returns what the demo prints."""
    spec = json.loads(ACCOUNTS_FILE.read_text())
    public_keys: dict[tuple[str, str], str] = {}
    tokens: dict[tuple[str, str], str] = {}
    history = FrozenClock(clock() - ACCOUNTS_AGE)
    with tempfile.TemporaryDirectory(prefix="demo-keys-") as tmp:
        keys = _Keys(Path(tmp))
        with session_scope(engine) as s:
            member = spec["staff"][0]
            staff = create_staff(s, password=staff_password, clock=history, **member)
            portal = spec["portal_user"]
            create_user(s, clock=history, **portal)
            for account in spec["users"]:
                user = create_user(
                    s,
                    username=account["username"],
                    email=account["email"],
                    password=account["password"],
                    clock=history,
                )
                if account["two_factor"]:
                    secret = begin_enrolment(s, user=user, clock=history).secret
                    pin = code_at_step(secret, time_step(history()) - 1)
                    confirm_enrolment(s, user=user, pin=pin, clock=history)
                for name in account["ssh_keys"]:
                    public = keys.generate(user.username, name)
                    public_keys[(user.username, name)] = public
                    add_ssh_key(s, user=user, public_key=public, clock=history)
                for token in account["tokens"]:
                    issued = issue_token(s, user=user, name=token["name"], clock=history)
                    tokens[(user.username, token["name"])] = issued.plaintext
                    if token.get("revoked"):
                        history.advance(days=30)
                        revoke_token(s, user=user, token_id=issued.token.id, clock=history)
        world = DemoWorld(staff=staff, staff_password=staff_password, portal_user=portal)

        def fill(match: re.Match[str]) -> str:
            kind, a, b = match.groups()
            if kind == "token":
                return tokens[(a, b)]
            if kind == "public_key":
                return public_keys[(a, b)]
            if kind == "namespace":
                return get_settings().sshsig_namespace
            if kind == "ticket":
                return str(world.tickets[a])
            if kind == "signature":
                with session_scope(engine, readonly=True) as s:
                    text = challenge_text(get_ticket(s, world.tickets[a]))
                name = next(n for (u, n) in public_keys if u == a)
                return keys.sign(a, name, text)
            raise ValueError(f"unknown demo placeholder {match.group(0)}")

        decision_key = keys.generate("grace", "laptop")
        paths = sorted(INBOX_DIR.glob("*.eml"))
        for i, path in enumerate(paths):
            raw = PLACEHOLDER_RE.sub(fill, path.read_text()).encode()
            received = FrozenClock(clock() - (len(paths) - i) * RECEIVED_EVERY)
            with session_scope(engine) as s:
                outcome = ingest_bytes(s, raw, source=f"demo:{path.name}", clock=received)
            world.ingested[path.name] = _outcome_words(outcome)
            if outcome.ticket_id is not None:
                world.tickets.setdefault(path.stem.split("-")[1], outcome.ticket_id)
    with session_scope(engine) as s:
        for ticket in list_tickets(s, limit=1000):
            verify_ticket(s, ticket, clock=clock)
    world.decisions = make_demo_decisions(
        engine, public_key=decision_key, history=history, clock=clock
    )
    return world
