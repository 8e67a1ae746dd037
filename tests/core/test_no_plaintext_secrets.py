"""A dump of the database holds no secret in the clear (invariant 3)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url

from core.accounts.tokens import issue_token
from core.accounts.users import create_user
from core.store import session_scope
from core.twofactor import begin_enrolment, confirm_enrolment
from core.twofactor.recovery_codes import normalize_code
from core.twofactor.totp import code_at_step, time_step


def dump_database(engine) -> str:
    """Every row of every table as text, plus the raw SQLite files when there are any."""
    metadata = MetaData()
    metadata.reflect(engine)
    parts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            parts.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal"):
            path = Path(f"{url.database}{suffix}")
            if path.exists():
                parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_dump_holds_no_password_totp_secret_recovery_code_or_token(engine, clock):
    password = "Tr0ub4dor&3-horse"
    with session_scope(engine) as s:
        user = create_user(
            s, username="alice", email="a@example.com", password=password, clock=clock
        )
        prov = begin_enrolment(s, user=user, clock=clock)
        codes = confirm_enrolment(
            s, user=user, pin=code_at_step(prov.secret, time_step(clock())), clock=clock
        )
        token = issue_token(s, user=user, name="laptop", clock=clock).plaintext
    dump = dump_database(engine)
    assert "alice" in dump  # the dump does see the data
    secrets = [password, prov.secret, prov.grouped_secret, token, token[3:]]
    for code in codes.codes:
        secrets += [code, normalize_code(code), code.upper()]
    leaked = [s for s in secrets if s in dump]
    assert leaked == []
