"""RFC 6238 TOTP as authenticator apps expect it: SHA1, 6 digits, 30 s, ±1 step accepted.

Replay protection stores the last accepted *time step* (not the code string) and advances it
with a conditional UPDATE, so a step is accepted at most once across processes."""

from __future__ import annotations

import hmac
import io
import re
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import or_, update
from sqlmodel import Session

from core.errors import InvalidCode
from core.store.tables import TotpRegistration

DIGITS = 6
PERIOD = 30
ALGORITHM = "SHA1"
SECRET_BITS = 160
VALID_WINDOW = 1
COMPATIBLE_APPS = ("Authy", "Google Authenticator", "Microsoft Authenticator", "FreeOTP")


def new_secret() -> str:
    """160 random bits as 32 base32 characters (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=SECRET_BITS // 5)


def time_step(at: datetime) -> int:
    return int(at.timestamp()) // PERIOD


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).generate_otp(step)


def normalize_pin(pin: str) -> str:
    pin = re.sub(r"[\s-]", "", pin or "")
    if not re.fullmatch(rf"\d{{{DIGITS}}}", pin):
        raise InvalidCode(f"Enter the {DIGITS}-digit code from your authenticator app.")
    return pin


def matching_step(secret: str, pin: str, at: datetime) -> int | None:
    """The time step within ±1 of ``at`` whose code is ``pin``, or None."""
    now = time_step(at)
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(code_at_step(secret, step), pin):
            return step
    return None


def claim_step(session: Session, user_id: int, step: int) -> bool:
    """Record ``step`` as used unless it (or a later one) already was; True when this call won."""
    result = session.execute(
        update(TotpRegistration)
        .where(TotpRegistration.user_id == user_id)
        .where(
            or_(TotpRegistration.last_used_step.is_(None), TotpRegistration.last_used_step < step)
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class Provisioning:
    """What an authenticator app needs: the otpauth URI (QR) or the manual-entry details."""

    secret: str
    account: str
    issuer: str

    @property
    def uri(self) -> str:
        return pyotp.TOTP(self.secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
            name=self.account, issuer_name=self.issuer
        )

    @property
    def grouped_secret(self) -> str:
        """The key in groups of four, as typed into an app by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    def manual_entry(self) -> dict[str, str | int]:
        return {
            "key": self.grouped_secret,
            "issuer": self.issuer,
            "account": self.account,
            "algorithm": ALGORITHM,
            "digits": DIGITS,
            "period": PERIOD,
            "type": "Time based (TOTP)",
        }

    def qr_svg(self, scale: int = 5) -> str:
        buffer = io.BytesIO()
        segno.make(self.uri, error="m").save(buffer, kind="svg", scale=scale, xmldecl=False)
        return buffer.getvalue().decode()

    def qr_png(self, scale: int = 6) -> bytes:
        buffer = io.BytesIO()
        segno.make(self.uri, error="m").save(buffer, kind="png", scale=scale)
        return buffer.getvalue()

    def qr_terminal(self) -> str:
        buffer = io.StringIO()
        segno.make(self.uri, error="m").terminal(out=buffer, compact=True)
        return buffer.getvalue()
