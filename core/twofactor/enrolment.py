"""Turning 2FA on and off: enrolment with a confirming pin, recovery-code sets, removal by
the owner, and reset by support."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, select

from core.clock import Clock, system_clock
from core.encryption import decrypt_secret, encrypt_secret
from core.errors import InvalidCode, InvalidCredentials, TwoFactorStateError, WrongPassword
from core.settings import get_settings
from core.store.tables import AuditEvent, SecondFactorThrottle, TotpRegistration, User
from core.twofactor import recovery_codes, totp
from core.twofactor.notifications import security_event
from core.twofactor.password_throttle import check_password
from core.twofactor.second_factor import use_recovery_code, verify_totp


@dataclass(frozen=True)
class RecoveryCodeSet:
    username: str
    codes: list[str]
    generated_at: datetime

    @property
    def file_name(self) -> str:
        return recovery_codes.FILE_NAME

    def file_text(self) -> str:
        return recovery_codes.codes_file_text(
            username=self.username, codes=self.codes, generated_at=self.generated_at
        )


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    pending: bool
    recovery_codes_left: int
    low_on_codes: bool
    enabled_at: datetime | None
    recent_events: list[AuditEvent] = field(default_factory=list)


def _registration(session: Session, user: User) -> TotpRegistration | None:
    return session.get(TotpRegistration, user.id, populate_existing=True)


def is_enabled(session: Session, user: User) -> bool:
    reg = _registration(session, user)
    return reg is not None and reg.confirmed_at is not None


def begin_enrolment(
    session: Session, *, user: User, clock: Clock = system_clock
) -> totp.Provisioning:
    """Start (or restart) enrolment with a fresh secret. Nothing changes for sign-in until
    ``confirm_enrolment`` succeeds."""
    reg = _registration(session, user)
    if reg is not None and reg.confirmed_at is not None:
        raise TwoFactorStateError("Two-factor authentication is already on for this account.")
    secret = totp.new_secret()
    if reg is None:
        reg = TotpRegistration(user_id=user.id, secret_encrypted="", created_at=clock())
    reg.secret_encrypted = encrypt_secret(secret)
    reg.created_at = clock()
    reg.last_used_step = None
    session.add(reg)
    session.flush()
    return totp.Provisioning(
        secret=secret, account=user.username, issuer=get_settings().totp_issuer
    )


def pending_provisioning(session: Session, *, user: User) -> totp.Provisioning | None:
    """The open enrolment's details again (e.g. after a wrong pin), or None."""
    reg = _registration(session, user)
    if reg is None or reg.confirmed_at is not None:
        return None
    return totp.Provisioning(
        secret=decrypt_secret(reg.secret_encrypted),
        account=user.username,
        issuer=get_settings().totp_issuer,
    )


def confirm_enrolment(
    session: Session, *, user: User, pin: str, clock: Clock = system_clock
) -> RecoveryCodeSet:
    """Turn 2FA on if ``pin`` matches the pending secret; returns the first recovery codes.
    A wrong pin raises ``InvalidCode`` and leaves the enrolment open."""
    reg = _registration(session, user)
    if reg is None or reg.confirmed_at is not None:
        raise TwoFactorStateError(
            "There is no enrolment to confirm; start one with 'Add Two-Factor Authentication'."
        )
    normalized = totp.normalize_pin(pin)
    now = clock()
    step = totp.matching_step(decrypt_secret(reg.secret_encrypted), normalized, now)
    if step is None:
        raise InvalidCode("That pin is not correct; check the app's clock and try the new code.")
    reg.confirmed_at = now
    reg.last_used_step = step
    session.add(reg)
    return _new_code_set(
        session, user=user, action="2fa.enabled", email="two_factor_enabled", clock=clock
    )


def _new_code_set(
    session: Session, *, user: User, action: str, email: str, clock: Clock
) -> RecoveryCodeSet:
    """Replace the account's recovery codes, audit ``action`` and email the owner."""
    now = clock()
    codes = recovery_codes.replace_codes(
        session, user_id=user.id, count=get_settings().recovery_code_count, now=now
    )
    security_event(
        session,
        user=user,
        action=action,
        actor=f"user:{user.username}",
        email_template=email,
        details={"recovery_codes": len(codes)},
        clock=clock,
    )
    return RecoveryCodeSet(username=user.username, codes=codes, generated_at=now)


def regenerate_recovery_codes(
    session: Session, *, user: User, pin: str, clock: Clock = system_clock
) -> RecoveryCodeSet:
    """Replace the whole set after checking a current authenticator code; old codes die."""
    if not is_enabled(session, user):
        raise TwoFactorStateError("Two-factor authentication is not on for this account.")
    verify_totp(session, user=user, pin=pin, clock=clock)
    return _new_code_set(
        session,
        user=user,
        action="2fa.recovery_codes_regenerated",
        email="recovery_codes_regenerated",
        clock=clock,
    )


def _clear_registrations(session: Session, user: User) -> None:
    session.execute(delete(TotpRegistration).where(TotpRegistration.user_id == user.id))
    recovery_codes.delete_codes(session, user_id=user.id)
    session.execute(delete(SecondFactorThrottle).where(SecondFactorThrottle.user_id == user.id))
    session.expire_all()


def disable_two_factor(
    session: Session,
    *,
    user: User,
    password: str,
    pin: str | None = None,
    recovery_code: str | None = None,
    client: str | None = None,
    clock: Clock = system_clock,
) -> None:
    """Self-service removal: needs the password again and a current authenticator code, or
    (for an owner who lost the app and is moving to a new one) a recovery code, spent. The
    password goes through the sign-in's throttle (``check_password``, with the face's
    ``client``): a stolen session must not become a way to guess it without waiting."""
    if not is_enabled(session, user):
        raise TwoFactorStateError("Two-factor authentication is not on for this account.")
    try:
        check_password(
            session, login=user.username, user=user, password=password, client=client, clock=clock
        )
    except InvalidCredentials:
        raise WrongPassword("Wrong password.") from None
    if recovery_code is not None:
        use_recovery_code(session, user=user, code=recovery_code, clock=clock)
    else:
        verify_totp(session, user=user, pin=pin or "", clock=clock)
    _clear_registrations(session, user)
    security_event(
        session,
        user=user,
        action="2fa.disabled",
        actor=f"user:{user.username}",
        email_template="two_factor_disabled",
        clock=clock,
    )


def reset_two_factor(
    session: Session,
    *,
    user: User,
    actor: str,
    ticket_id: int | None = None,
    notify: bool = True,
    clock: Clock = system_clock,
) -> None:
    """Support's reset after an approved recovery request: every registration is cleared.
    ``notify=False`` when the caller's own email to the owner already says it (an approval's
    email is the security notice too, so the owner gets one email, not two)."""
    _clear_registrations(session, user)
    security_event(
        session,
        user=user,
        action="2fa.reset_by_support",
        actor=actor,
        email_template="two_factor_reset" if notify else None,
        details={"ticket_id": ticket_id} if ticket_id else {},
        ticket_id=ticket_id,
        clock=clock,
    )


def two_factor_status(session: Session, user: User, *, recent: int = 10) -> TwoFactorStatus:
    reg = _registration(session, user)
    enabled = reg is not None and reg.confirmed_at is not None
    left = recovery_codes.remaining_codes(session, user_id=user.id) if enabled else 0
    events = list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.user_id == user.id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(recent)
        )
    )
    return TwoFactorStatus(
        enabled=enabled,
        pending=reg is not None and not enabled,
        recovery_codes_left=left,
        low_on_codes=enabled and left <= get_settings().recovery_codes_low_warning,
        enabled_at=reg.confirmed_at if enabled else None,
        recent_events=events,
    )
