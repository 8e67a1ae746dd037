"""Creating and finding Hub accounts."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password
from core.clock import Clock, system_clock
from core.errors import AlreadyExists, InvalidInput, UnknownUser
from core.store.tables import User

USERNAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput(f"{email!r} is not a valid email address.")
    return email


def create_user(
    session: Session, *, username: str, email: str, password: str, clock: Clock = system_clock
) -> User:
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "A username is 1-96 letters, digits, '.', '_' or '-', starting and ending "
            "with a letter or digit."
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    email = normalize_email(email)
    clash = session.exec(
        select(User).where((func.lower(User.username) == username.lower()) | (User.email == email))
    ).first()
    if clash is not None:
        raise AlreadyExists("That username or email is already taken.")
    user = User(
        username=username, email=email, password_hash=hash_password(password), created_at=clock()
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists("That username or email is already taken.") from exc
    return user


def find_user(session: Session, login: str) -> User | None:
    """The account whose username (case-insensitive) or email is ``login``."""
    login = login.strip()
    if "@" in login:
        return session.exec(select(User).where(User.email == login.lower())).first()
    return session.exec(select(User).where(func.lower(User.username) == login.lower())).first()


def get_user(session: Session, login: str) -> User:
    user = find_user(session, login)
    if user is None:
        raise UnknownUser(login)
    return user
