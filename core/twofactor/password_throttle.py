"""Throttling of the password step, per account and per client, in the database.

Every attempt locks its throttle rows (``SELECT ... FOR UPDATE``, in a fixed order) before
the password is checked, so concurrent guesses are counted one after another. After
``password_free_failures`` failures on an account (``password_client_free_failures`` from
one client, over all accounts) each further attempt waits, doubling from 1 s up to
``password_max_delay_seconds``: slow for a guesser, never a permanent lock for the owner.
A count older than ``password_failure_window_seconds`` starts over; a right password
clears its account's count (not the client's: one's own account must not refill a
guesser's budget). A login that names no account is counted under that login, so the
answer and its timing do not tell whether the account exists."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, update
from sqlmodel import Session

from core.accounts.passwords import burn_password_check, verify_password
from core.audit import record_event
from core.clock import Clock, system_clock
from core.errors import InvalidCredentials, Throttled
from core.settings import get_settings
from core.store.tables import PasswordThrottle, User
from core.twofactor.throttle import locked_row

Subject = tuple[str, str]
"""(scope, subject): ("account", "<user id>" or "login:<login>"), ("client", "<client>")."""


def subjects_for(login: str, user: User | None, client: str | None) -> list[Subject]:
    account = str(user.id) if user is not None else "login:" + login.strip().lower()[:200]
    found = [("account", account)]
    if client:
        found.append(("client", client.strip()[:254]))
    return sorted(found)


def begin_password_attempt(session: Session, subjects: list[Subject], now: datetime) -> None:
    """Lock every subject's row; raise ``Throttled`` if any must still wait."""
    waits = []
    for scope, subject in subjects:
        row = locked_row(
            session, PasswordThrottle, {"scope": scope, "subject": subject}, failures=0
        )
        if row.blocked_until is not None and row.blocked_until > now:
            waits.append(math.ceil((row.blocked_until - now).total_seconds()))
    if waits:
        raise Throttled(max(waits), what="passwords", who="Sign-in")


def _block(failures: int, free: int) -> timedelta | None:
    over = failures - free
    if over <= 0:
        return None
    seconds = 2 ** min(over - 1, 20)
    return timedelta(seconds=min(seconds, get_settings().password_max_delay_seconds))


def record_password_failure(
    session: Session,
    subjects: list[Subject],
    *,
    user: User | None,
    client: str | None,
    now: datetime,
) -> None:
    """Count the failure on every subject (a stale count restarts at one), set the waits and
    audit it; the caller commits before raising."""
    settings = get_settings()
    stale = now - timedelta(seconds=settings.password_failure_window_seconds)
    table = PasswordThrottle
    counts = {}
    for scope, subject in subjects:
        counts[scope] = session.execute(
            update(table)
            .where(table.scope == scope, table.subject == subject)
            .values(
                failures=case(
                    (table.last_failure_at.is_(None), 1),
                    (table.last_failure_at < stale, 1),
                    else_=table.failures + 1,
                ),
                last_failure_at=now,
            )
            .returning(table.failures)
        ).scalar_one()
        free = (
            settings.password_client_free_failures
            if scope == "client"
            else settings.password_free_failures
        )
        block = _block(counts[scope], free)
        if block is not None:
            session.execute(
                update(table)
                .where(table.scope == scope, table.subject == subject)
                .values(blocked_until=now + block)
            )
    record_event(
        session,
        action="signin.password_failed",
        actor=f"user:{user.username}" if user is not None else "unknown",
        user_id=user.id if user is not None else None,
        details={"client": client, "failures": counts.get("account", 0)},
        clock=lambda: now,
    )


def clear_password_failures(session: Session, user: User) -> None:
    session.execute(
        update(PasswordThrottle)
        .where(PasswordThrottle.scope == "account", PasswordThrottle.subject == str(user.id))
        .values(failures=0, blocked_until=None)
    )


def check_password(
    session: Session,
    *,
    login: str,
    user: User | None,
    password: str,
    client: str | None = None,
    clock: Clock = system_clock,
) -> None:
    """The one throttled password check (sign-in, and any other door that takes a password):
    ``Throttled`` if the account or client must wait; else the password is checked (as
    slowly for an unknown ``user``) and a failure counted, audited and committed before
    ``InvalidCredentials`` is raised; a success clears the account's count."""
    now = clock()
    subjects = subjects_for(login, user, client)
    begin_password_attempt(session, subjects, now)
    if user is None:
        burn_password_check(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok:
        record_password_failure(session, subjects, user=user, client=client, now=now)
        session.commit()
        raise InvalidCredentials()
    clear_password_failures(session, user)
