"""Password reset by email: single use, expiry, death on any password change, the same
answer after the same work for unknown addresses, and the second factor still required."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from core.accounts import password_reset
from core.accounts.password_reset import (
    InvalidResetLink,
    complete_password_reset,
    inspect_reset_link,
    request_password_reset,
    send_reset_link,
)
from core.accounts.passwords import hash_password
from core.errors import InvalidCode, InvalidCredentials, InvalidInput, Throttled
from core.store import session_scope
from core.store.tables import AuditEvent, OutboxEmail, PasswordResetLink, User
from core.twofactor import sign_in, sign_in_password
from core.twofactor.recovery_codes import remaining_codes
from tests.core.test_no_plaintext_secrets import dump_database
from tests.core.twofactor import conftest as twofactor
from tests.core.twofactor.conftest import PASSWORD
from tests.support.outbox_mail import delivered_bodies, delivered_text

user = twofactor.user
enrolled = twofactor.enrolled

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"https?://\S+/forgot-password\?token=[A-Za-z0-9_\-]+")


def emails(engine, template: str | None = None) -> list[OutboxEmail]:
    with session_scope(engine, readonly=True) as s:
        query = select(OutboxEmail).order_by(OutboxEmail.id)
        if template:
            query = query.where(OutboxEmail.template == template)
        return list(s.exec(query))


def actions(engine) -> list[str]:
    with session_scope(engine, readonly=True) as s:
        return list(s.exec(select(AuditEvent.action).order_by(AuditEvent.id)))


def request_link(engine, clock, address: str = "alice@example.com") -> str:
    """Ask for a link and return the token read from the email, as the user would."""
    before = len(emails(engine, "password_reset_link"))
    with session_scope(engine) as s:
        request_password_reset(s, email=address, clock=clock)
    sent = emails(engine, "password_reset_link")
    assert len(sent) == before + 1
    text, html = delivered_bodies(sent[-1])
    url = LINK.search(text).group(0)
    assert url in html
    return parse_qs(urlsplit(url).query)["token"][0]


def reset(engine, clock, token: str, **factor: str) -> User:
    with session_scope(engine) as s:
        return complete_password_reset(
            s, token=token, new_password=NEW_PASSWORD, clock=clock, **factor
        )


def password_works(engine, password: str) -> bool:
    with session_scope(engine) as s:
        try:
            sign_in_password(s, login="alice", password=password)
        except InvalidCredentials:
            return False
    return True


def test_link_goes_to_the_address_on_file_and_only_its_keyed_hash_is_stored(engine, user, clock):
    token = request_link(engine, clock, address="  ALICE@Example.com ")
    [mail] = emails(engine, "password_reset_link")
    assert mail.to_addr == "alice@example.com"
    assert delivered_text(mail).count("http://localhost:8502/forgot-password?token=") == 1
    assert token not in mail.body_text + mail.body_html  # stored sealed
    assert len(token) >= 43
    with session_scope(engine, readonly=True) as s:
        [row] = s.exec(select(PasswordResetLink)).all()
        assert token not in row.token_hash and row.token_hash == password_reset.token_hash(token)
        assert row.token_hash != __import__("hashlib").sha256(token.encode()).hexdigest()
        assert (row.expires_at - row.created_at).total_seconds() == 3600
    assert actions(engine)[-1] == "password.reset_link_sent"


def test_portal_url_setting_makes_the_link(engine, user, clock, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_PORTAL_URL", "https://account.example.org/")
    password_reset.get_settings.cache_clear()
    token = request_link(engine, clock)
    body = delivered_text(emails(engine, "password_reset_link")[-1])
    assert f"https://account.example.org/forgot-password?token={token}" in body


def test_link_works_once_and_tells_the_owner(engine, user, clock):
    token = request_link(engine, clock)
    with session_scope(engine) as s:
        view = inspect_reset_link(s, token=token, clock=clock)
    assert view.username == "alice" and not view.needs_second_factor
    reset(engine, clock, token)
    assert password_works(engine, NEW_PASSWORD) and not password_works(engine, PASSWORD)
    with pytest.raises(InvalidResetLink):
        reset(engine, clock, token)
    with session_scope(engine) as s, pytest.raises(InvalidResetLink):
        inspect_reset_link(s, token=token, clock=clock)
    [notice] = emails(engine, "password_changed")
    assert notice.to_addr == "alice@example.com" and token not in notice.body_text
    assert "password.reset" in actions(engine)


def test_link_expires_after_an_hour(engine, user, clock):
    token = request_link(engine, clock)
    clock.advance(minutes=59)
    with session_scope(engine) as s:
        inspect_reset_link(s, token=token, clock=clock)
    clock.advance(minutes=1)
    with pytest.raises(InvalidResetLink):
        reset(engine, clock, token)
    assert password_works(engine, PASSWORD)


def test_any_later_password_change_kills_the_link(engine, user, clock):
    token = request_link(engine, clock)
    with session_scope(engine) as s:
        s.get(User, user.id).password_hash = hash_password("changed elsewhere entirely")
    with pytest.raises(InvalidResetLink):
        reset(engine, clock, token)


def test_a_newer_link_replaces_the_older_and_resends_are_spaced(engine, user, clock):
    first = request_link(engine, clock)
    with session_scope(engine) as s:
        answer = request_password_reset(s, email="alice@example.com", clock=clock)
    assert len(emails(engine, "password_reset_link")) == 1, "within the cooldown: no email"
    assert answer == password_reset.public_answer()
    assert actions(engine)[-1] == "password.reset_link_not_sent"
    clock.advance(seconds=61)
    second = request_link(engine, clock)
    with pytest.raises(InvalidResetLink):
        reset(engine, clock, first)
    reset(engine, clock, second)


@pytest.mark.parametrize("bad", ["", "x", "A" * 43, "A" * 500])
def test_made_up_tokens_are_refused(engine, user, clock, bad):
    request_link(engine, clock)
    with pytest.raises(InvalidResetLink):
        reset(engine, clock, bad)


def test_short_password_is_refused_before_the_link_is_spent(engine, user, clock):
    token = request_link(engine, clock)
    with session_scope(engine) as s, pytest.raises(InvalidInput):
        complete_password_reset(s, token=token, new_password="short", clock=clock)
    reset(engine, clock, token)


def test_unknown_address_gets_the_same_answer_after_the_same_work(engine, user, clock, monkeypatch):
    """Both paths make a token, hash it, render the email and write one audit row; only a
    known address stores a link and queues the email. Counted, not timed."""
    calls: dict[str, list[str]] = {}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls.setdefault(name, []).append(name)
            return real(*args, **kwargs)

        return wrapper

    for name in ("token_hash", "outbox_values", "record_event"):
        monkeypatch.setattr(password_reset, name, counting(name, getattr(password_reset, name)))
    monkeypatch.setattr(
        password_reset.secrets,
        "token_urlsafe",
        counting("token_urlsafe", password_reset.secrets.token_urlsafe),
    )

    answers, work = [], []
    for address in ("alice@example.com", "nobody@example.com"):
        calls.clear()
        with session_scope(engine) as s:
            answers.append(request_password_reset(s, email=address, clock=clock))
        work.append({k: len(v) for k, v in calls.items()})
    assert answers[0] == answers[1] == password_reset.public_answer()
    assert (
        work[0]
        == work[1]
        == {
            "token_urlsafe": 1,
            "token_hash": 1,
            "outbox_values": 1,
            "record_event": 1,
        }
    )
    assert [m.to_addr for m in emails(engine)] == ["alice@example.com"]
    with session_scope(engine, readonly=True) as s:
        unknown = s.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert unknown.user_id is None and unknown.details == {"reason": "no account"}
    assert "nobody" not in str(unknown.details)


def test_a_malformed_address_is_one_clear_error(engine, user, clock):
    with session_scope(engine) as s, pytest.raises(InvalidInput):
        request_password_reset(s, email="not an address", clock=clock)


def test_two_factor_is_still_required(engine, enrolled, clock):
    token = request_link(engine, clock)
    with session_scope(engine) as s:
        assert inspect_reset_link(s, token=token, clock=clock).needs_second_factor
    with pytest.raises(InvalidCode, match="Two-factor authentication is on"):
        reset(engine, clock, token)
    with pytest.raises(InvalidCode):
        reset(engine, clock, token, totp_pin="000000")
    assert password_works(engine, PASSWORD), "a failed code changes nothing"
    reset(engine, clock, token, totp_pin=enrolled.pin(clock))
    assert password_works(engine, NEW_PASSWORD)
    with session_scope(engine) as s:
        result = sign_in(s, login="alice", password=NEW_PASSWORD, clock=clock)
    assert not result.complete, "2FA stays on after a password reset"
    assert "confirmed with a code from your authenticator app" in (
        emails(engine, "password_changed")[0].body_text
    )


def test_a_recovery_code_can_stand_in_for_the_app(engine, enrolled, clock):
    token = request_link(engine, clock)
    reset(engine, clock, token, recovery_code=enrolled.codes[0])
    with session_scope(engine) as s:
        assert remaining_codes(s, user_id=enrolled.user.id) == len(enrolled.codes) - 1
    with pytest.raises(InvalidResetLink):
        reset(engine, clock, token, recovery_code=enrolled.codes[1])


def test_wrong_codes_are_throttled_like_sign_in(engine, enrolled, clock):
    token = request_link(engine, clock)
    for _ in range(4):
        with pytest.raises(InvalidCode):
            reset(engine, clock, token, totp_pin="000000")
    with pytest.raises(Throttled):
        reset(engine, clock, token, totp_pin=enrolled.pin(clock))
    assert password_works(engine, PASSWORD)


def test_cli_path_sends_to_the_account_it_names(engine, user, clock):
    with session_scope(engine) as s:
        assert send_reset_link(s, user=s.get(User, user.id), actor="cli", clock=clock)
    [mail] = emails(engine, "password_reset_link")
    assert mail.to_addr == "alice@example.com"


def test_the_answer_leaves_no_sooner_than_the_floor_even_on_error():
    """The face wraps the whole unit of work; a fast path (or an error) still waits."""
    for body in (lambda: None, lambda: 1 / 0):
        start = time.monotonic()
        with contextlib.suppress(ZeroDivisionError), password_reset.answer_no_sooner_than(0.05):
            body()
        assert time.monotonic() - start >= 0.05


def test_two_uses_at_once_one_wins(engine, user, clock):
    """The link is spent by a conditional UPDATE: of two concurrent uses, one sets its
    password and the other is refused, on SQLite and PostgreSQL."""
    token = request_link(engine, clock)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def use(password: str) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as s:
                complete_password_reset(s, token=token, new_password=password, clock=clock)
            outcomes.append(password)
        except InvalidResetLink:
            outcomes.append("refused")

    threads = [threading.Thread(target=use, args=(p,)) for p in ("first choice!", "second one!")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("refused") == 1
    [winner] = [o for o in outcomes if o != "refused"]
    assert password_works(engine, winner)
    assert len(emails(engine, "password_changed")) == 1


def test_the_emailed_link_is_in_the_clear_nowhere_in_the_database(engine, user, clock):
    """The outbox row is sealed: the token is only in the message the sender builds."""
    token = request_link(engine, clock)
    [mail] = emails(engine, "password_reset_link")
    assert mail.sealed
    assert token not in dump_database(engine)
