"""Security: access-token hashes keyed with a server-side secret (HMAC over the SHA-256
stored before, so existing tokens and evidence keep matching), a password throttle per
account and per client, recovery codes throttled apart from authenticator codes (so a
lock on one never shuts the owner out of the other), and the high-value flag that makes
an account's 2FA reset take two staff members.

The downgrade drops the new columns and table but leaves the hashes keyed: an unkeyed
SHA-256 cannot be recovered from them. Upgrading again converts only hashes without the
``k1$`` prefix, so a hash is never keyed twice.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.store.types
from core.accounts.tokens import HASH_SCHEME, keyed_hash

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

HASHED = (("access_tokens", "id"), ("evidence", "id"))


def _key_hashes() -> None:
    conn = op.get_bind()
    for table, key in HASHED:
        t = sa.table(table, sa.column(key), sa.column("token_hash"))
        rows = conn.execute(
            sa.select(t.c[key], t.c.token_hash).where(
                t.c.token_hash.is_not(None), ~t.c.token_hash.startswith(HASH_SCHEME)
            )
        ).all()
        if rows:
            conn.execute(
                sa.update(t)
                .where(t.c[key] == sa.bindparam("row_id"))
                .values(token_hash=sa.bindparam("new_hash")),
                [{"row_id": row_id, "new_hash": keyed_hash(old)} for row_id, old in rows],
            )


def upgrade() -> None:
    _key_hashes()
    op.add_column(
        "users", sa.Column("high_value", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    with op.batch_alter_table("second_factor_throttle") as batch:
        batch.add_column(
            sa.Column("recovery_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "recovery_blocked_until", core.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(
            sa.Column("owner_warned_at", core.store.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "password_throttle",
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", core.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "subject"),
    )


def downgrade() -> None:
    op.drop_table("password_throttle")
    with op.batch_alter_table("second_factor_throttle") as batch:
        batch.drop_column("owner_warned_at")
        batch.drop_column("recovery_blocked_until")
        batch.drop_column("recovery_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("high_value")
