"""Outbox bodies that carry a one-time secret are stored encrypted.

A password-reset link and the link that cancels a scheduled 2FA reset are bearer secrets:
whoever reads the outbox row can use them until they expire. ``outbox_emails.sealed``
marks a row whose ``body_text`` and ``body_html`` are Fernet tokens under the service's
key (``core.encryption``); the sender opens them when it builds the message. Rows of those
two templates written before this migration are sealed here.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from core.encryption import decrypt_secret, encrypt_secret

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SECRET_TEMPLATES = ("password_reset_link", "two_factor_reset_pending")
"""The templates that carried a bearer link when this migration was written."""


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(
            sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _rewrite(sealed=True)


def downgrade() -> None:
    _rewrite(sealed=False)
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("sealed")


def _rewrite(*, sealed: bool) -> None:
    """Seal (or, going down, open) the bodies of the secret-bearing templates' rows."""
    outbox = sa.table(
        "outbox_emails",
        sa.column("id", sa.Integer),
        sa.column("template", sa.String),
        sa.column("body_text", sa.String),
        sa.column("body_html", sa.String),
        sa.column("sealed", sa.Boolean),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(outbox.c.id, outbox.c.body_text, outbox.c.body_html).where(
            outbox.c.template.in_(SECRET_TEMPLATES), outbox.c.sealed.is_(not sealed)
        )
    ).all()
    change = encrypt_secret if sealed else decrypt_secret
    for row_id, text, html in rows:
        bind.execute(
            sa.update(outbox)
            .where(outbox.c.id == row_id)
            .values(body_text=change(text), body_html=change(html), sealed=sealed)
        )
