"""The staff session store on SQLite and PostgreSQL: resume touches the row with one
conditional UPDATE, and idle, expired, revoked or deactivated sessions never resume."""

from __future__ import annotations

from core.clock import FrozenClock, system_clock
from core.staff import create_staff, update_staff
from core.staff.sessions import end_session, open_sessions, resume_session, start_session
from core.store import session_scope


def test_session_lifecycle(engine):
    clock = FrozenClock(system_clock())
    with session_scope(engine) as s:
        create_staff(s, username="ann", email="ann@x.example", role="agent", password="pw " * 4)
    with session_scope(engine) as s:
        from sqlmodel import select

        from core.staff import active_staff
        from core.store.tables import User

        ann = active_staff(s, s.exec(select(User.id).where(User.username == "ann")).one())
        token = start_session(s, staff=ann, clock=clock)
        other = start_session(s, staff=ann, clock=clock)
    with session_scope(engine) as s:
        clock.advance(minutes=29)
        assert resume_session(s, token=token, clock=clock) == ann
        clock.advance(minutes=29)
        assert resume_session(s, token=token, clock=clock) == ann, "activity moved the idle end"
        assert resume_session(s, token=other, clock=clock) is None, "the other one idled out"
        assert resume_session(s, token=token + "x", clock=clock) is None
        end_session(s, token=token, clock=clock)
        assert resume_session(s, token=token, clock=clock) is None
        third = start_session(s, staff=ann, clock=clock)
        update_staff(s, username="ann", active=False, actor="cli")
        assert resume_session(s, token=third, clock=clock) is None
        assert open_sessions(s, user_id=ann.user_id) == 0, "a deactivation revokes them all"
