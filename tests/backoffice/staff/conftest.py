"""The staff app under ``AppTest`` on a real SQLite file: staff of every role, a Hub account
with 2FA, a token and a key, and tickets made by the real inbound pipeline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

import pyotp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from streamlit.testing.v1 import AppTest

from backoffice.staff import APP_PATH, state
from core.accounts.ssh_keys import add_ssh_key
from core.accounts.tokens import issue_token
from core.accounts.users import create_user
from core.clock import FrozenClock, system_clock
from core.inbound import ingest_bytes
from core.settings import get_settings
from core.staff import create_staff
from core.store import session_scope
from core.store.engine import make_engine
from core.store.tables import Ticket
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.totp import code_at_step, time_step
from core.verification import verify_ticket

PASSWORD = "staff password 123"


@dataclass
class World:
    engine: object
    secrets: dict[str, str]
    token: str
    strong_ticket: int
    weak_ticket: int
    clock: FrozenClock
    steps: int = 0

    def next_clock(self) -> FrozenClock:
        """A clock one TOTP step later than the last one handed out, so every sign-in in a
        test uses a fresh code (the 2FA core refuses a replayed step)."""
        self.steps += 1
        return FrozenClock(self.clock() + timedelta(seconds=30 * self.steps))


def recovery_email(sender: str, body: str, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "website@huggingface.co"
    msg["Subject"] = "Lost my 2FA device"
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def world(sqlite_url, monkeypatch) -> World:
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    engine = make_engine(sqlite_url)
    clock = FrozenClock(system_clock())
    secrets: dict[str, str] = {}
    key = Ed25519PrivateKey.generate().public_key()
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    with session_scope(engine) as s:
        for name, role in (("ann", "agent"), ("bob", "agent"), ("ada", "admin"), ("olly", "ops")):
            enrolment = create_staff(
                s,
                username=name,
                email=f"{name}@support.example",
                role=role,
                password=PASSWORD,
                clock=clock,
            )
            secrets[name] = enrolment.secret
        alice = create_user(s, username="alice", email="alice@example.org", password=PASSWORD)
        provisioning = begin_enrolment(s, user=alice, clock=clock)
        confirm_enrolment(
            s,
            user=alice,
            pin=code_at_step(provisioning.secret, time_step(clock()) - 1),
            clock=clock,
        )
        token = issue_token(s, user=alice, name="laptop", clock=clock).plaintext
        carol = create_user(s, username="carol", email="carol@example.org", password=PASSWORD)
        add_ssh_key(s, user=carol, public_key=openssh.decode() + " carol@laptop")
    with session_scope(engine) as s:
        body = f"Hello, I lost my phone.\nUsername: alice\nMy token is {token}\nThanks"
        strong = ingest_bytes(
            s, recovery_email("alice@example.org", body, "<m1@example.org>"), source="test"
        )
        clock.advance(minutes=5)
        body = f"Please help.\nUsername: carol\nMy key:\n{openssh.decode()}\n"
        weak = ingest_bytes(
            s, recovery_email("carol@example.org", body, "<m2@example.org>"), source="test"
        )
    with session_scope(engine) as s:
        for outcome in (strong, weak):
            verify_ticket(s, s.get(Ticket, outcome.ticket_id), clock=clock)
    return World(engine, secrets, token, strong.ticket_id, weak.ticket_id, clock)


def new_app(world: World, clock: FrozenClock | None = None) -> AppTest:
    at = AppTest.from_file(str(APP_PATH), default_timeout=30)
    at.session_state[state.CLOCK_KEY] = clock or world.next_clock()
    return at


def sign_in(world: World, name: str, *, at: AppTest | None = None) -> AppTest:
    """Both steps of the sign-in, with the code computed by pyotp for the app's clock."""
    at = new_app(world) if at is None else at
    clock = at.session_state[state.CLOCK_KEY]
    at.run()
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    at.text_input(key="login_code").input(pyotp.TOTP(world.secrets[name]).at(clock()))
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(value: str) -> str:
    """What a reader sees of a Markdown body the app escaped with ``literal``."""
    return MARKDOWN_ESCAPE.sub(r"\1", value).replace("\u2060", "")


@pytest.fixture
def media_storage(monkeypatch):
    """One media store for every run, so a test can read what a download button serves."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    storage = MemoryMediaFileStorage("/mock/media")
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", lambda _endpoint: storage)
    return storage


def downloaded(at, storage, key: str) -> bytes:
    """The bytes the download button ``key`` serves."""
    from pathlib import PurePosixPath

    url = at.download_button(key=key).proto.url
    return storage.get_file(PurePosixPath(url).name).content
