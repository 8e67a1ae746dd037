"""Staff of the back office: accounts with roles on the Hub's 2FA core, sign-in, pages."""

from core.staff.accounts import (
    StaffEnrolment,
    StaffIdentity,
    active_staff,
    create_staff,
    list_staff,
    update_staff,
)
from core.staff.authorization import StaffRef, authorize, authorize_actor
from core.staff.roles import PAGES, ROLE_PAGES, STAFF_ROLES, can_decide, pages_for
from core.staff.signin import session_expired, staff_sign_in_password, staff_sign_in_second_factor

__all__ = [
    "PAGES",
    "ROLE_PAGES",
    "STAFF_ROLES",
    "StaffEnrolment",
    "StaffIdentity",
    "StaffRef",
    "active_staff",
    "authorize",
    "authorize_actor",
    "can_decide",
    "create_staff",
    "list_staff",
    "pages_for",
    "session_expired",
    "staff_sign_in_password",
    "staff_sign_in_second_factor",
    "update_staff",
]
