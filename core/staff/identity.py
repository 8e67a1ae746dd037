"""The staff member a face acts for, as a read model that carries no secret."""

from __future__ import annotations

from dataclasses import dataclass

from core.store.tables import StaffMember, User


@dataclass(frozen=True)
class StaffIdentity:
    """A signed-in (or about to sign in) staff member; carries no secret."""

    user_id: int
    username: str
    email: str
    role: str

    @property
    def actor(self) -> str:
        """How audit rows and decisions name this staff member."""
        return f"staff:{self.username}"


def identity_of(user: User, member: StaffMember) -> StaffIdentity:
    return StaffIdentity(
        user_id=user.id, username=user.username, email=user.email, role=member.role
    )
