"""TOTP two-factor authentication, recovery codes, two-step sign-in and throttling."""

from core.twofactor.enrolment import (
    RecoveryCodeSet,
    TwoFactorStatus,
    begin_enrolment,
    confirm_enrolment,
    disable_two_factor,
    is_enabled,
    pending_provisioning,
    regenerate_recovery_codes,
    reset_two_factor,
    two_factor_status,
)
from core.twofactor.recovery_codes import FILE_NAME as RECOVERY_CODES_FILE_NAME
from core.twofactor.second_factor import RecoveryCodeUse, use_recovery_code, verify_totp
from core.twofactor.signin import (
    SignInResult,
    sign_in,
    sign_in_password,
    sign_in_second_factor,
)
from core.twofactor.totp import COMPATIBLE_APPS, Provisioning

__all__ = [
    "COMPATIBLE_APPS",
    "RECOVERY_CODES_FILE_NAME",
    "Provisioning",
    "RecoveryCodeSet",
    "RecoveryCodeUse",
    "SignInResult",
    "TwoFactorStatus",
    "begin_enrolment",
    "confirm_enrolment",
    "disable_two_factor",
    "is_enabled",
    "pending_provisioning",
    "regenerate_recovery_codes",
    "reset_two_factor",
    "sign_in",
    "sign_in_password",
    "sign_in_second_factor",
    "two_factor_status",
    "use_recovery_code",
    "verify_totp",
]
