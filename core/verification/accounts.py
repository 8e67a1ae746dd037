"""Which account a ticket is about, from the claimed username/email and the sender address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlmodel import Session, select

from core.store.bulk import one_of
from core.store.tables import Evidence, Ticket, User
from core.verification.report import Check


@dataclass
class Resolution:
    user: User | None
    checks: list[Check] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _claims(ticket: Ticket, evidence: Sequence[Evidence]) -> list[str]:
    claims = [ticket.claimed_username, ticket.claimed_email]
    claims += [e.value for e in evidence if e.kind in ("claimed_username", "claimed_email")]
    return list(dict.fromkeys(c.strip() for c in claims if c and c.strip()))


def find_users(session: Session, logins: Iterable[str]) -> dict[str, User | None]:
    """``find_user`` for many logins in one query, keyed by the login stripped and lowered
    (an email matches the account email, any other login the username): verification runs
    for every new ticket, and ingestion resolves a whole batch at once."""
    wanted = {login.strip().lower() for login in logins if login and login.strip()}
    if not wanted:
        return {}
    emails = {w for w in wanted if "@" in w}
    names = wanted - emails
    users = session.exec(
        select(User).where(
            or_(
                one_of(session, User.email, emails),
                one_of(session, func.lower(User.username), names),
            )
        )
    ).all()
    by_email = {u.email: u for u in users}
    by_name = {u.username.lower(): u for u in users}
    return {w: (by_email if "@" in w else by_name).get(w) for w in wanted}


def resolve_account(
    session: Session,
    ticket: Ticket,
    evidence: Sequence[Evidence],
    users: Mapping[str, User | None] | None = None,
) -> Resolution:
    """The claimed account, else the account whose email sent the ticket. Claims naming
    different accounts resolve to none (staff must ask); every mismatch is flagged, and a
    claim that wins over the sender says so on the report (a claim is text anyone can
    type; the sender address is at least the mailbox the answer goes to).
    ``users`` is a ``find_users`` result covering the claims and the sender, if the caller
    has one."""
    claims = _claims(ticket, evidence)
    logins = [*claims, ticket.requester_email or ""]
    if users is None:
        users = find_users(session, logins)
    found = {claim: users.get(claim.strip().lower()) for claim in claims}
    requester = (ticket.requester_email or "").strip().lower()
    sender = users.get(requester) if requester else None
    claimed = {u.id: u for u in found.values() if u is not None}
    unknown = [claim for claim, user in found.items() if user is None]
    res = Resolution(user=None)

    if len(claimed) > 1:
        names = ", ".join(sorted(u.username for u in claimed.values()))
        res.checks.append(Check("account", "fail", f"The claims name different accounts: {names}."))
        res.flags.append(f"Claims point to different accounts ({names}).")
        return res
    if claimed:
        res.user = next(iter(claimed.values()))
        how = "the claim " + " and ".join(repr(c) for c in claims if found[c] is not None)
    elif sender is not None:
        res.user = sender
        how = "the sender address"
    else:
        what = ", ".join(claims) if claims else "nothing claimed"
        res.checks.append(
            Check(
                "account", "fail", f"No account matches ({what}; sender {ticket.requester_email})."
            )
        )
        res.flags.append("No account matches the claims or the sender.")
        return res

    res.checks.append(Check("account", "pass", f"Account {res.user.username} found from {how}."))
    if unknown:
        res.flags.append(f"Some claims match no account: {', '.join(unknown)}.")
    if requester == res.user.email:
        res.checks.append(
            Check("sender_address", "pass", "The sender is the account's email on file.")
        )
        return res
    res.checks.append(
        Check("sender_address", "fail", "The sender is not the account's email on file.")
    )
    res.flags.append("Sender address is not the account's email on file.")
    if sender is not None and sender.id != res.user.id:
        res.flags.append(
            f"The sender address belongs to another account ({sender.username}); {how} "
            f"was preferred over it, naming {res.user.username}."
        )
    elif claimed:
        res.flags.append(
            f"Account {res.user.username} comes from {how} only: the sender address "
            f"{ticket.requester_email} matches no account."
        )
    return res
