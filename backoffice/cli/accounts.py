"""``backoffice accounts``: create accounts and manage the records recovery relies on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from backoffice.cli.common import (
    DbOption,
    JsonOption,
    PasswordStdinOption,
    console,
    domain_errors,
    err_console,
    fail,
    open_session,
    print_json,
    read_password,
)
from core.accounts.password_reset import send_reset_link
from core.accounts.ssh_keys import add_ssh_key, list_ssh_keys, revoke_ssh_key
from core.accounts.tokens import issue_token, list_tokens, mask_token, revoke_token
from core.accounts.users import create_user, get_user
from core.settings import get_settings
from core.twofactor import two_factor_status

app = typer.Typer(help="Hub accounts, their SSH keys and access tokens.", no_args_is_help=True)


@app.command("create")
@domain_errors
def create(
    username: str,
    email: Annotated[str, typer.Option(help="The account's email address.")],
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
) -> None:
    """Create an account."""
    password = read_password(password_stdin, confirm=True)
    with open_session(db) as session:
        user = create_user(session, username=username, email=email, password=password)
    console.print(f"Created account [bold]{user.username}[/] <{user.email}>.", highlight=False)


@app.command("add-ssh-key")
@domain_errors
def add_key(
    username: str,
    pubkey_file: Annotated[str, typer.Argument(help="A .pub file, or - for standard input.")],
    db: DbOption = None,
) -> None:
    """Register an SSH public key; prints its SHA256 fingerprint."""
    if pubkey_file == "-":
        text = sys.stdin.read(65536)
    else:
        path = Path(pubkey_file)
        if not path.is_file():
            raise fail(f"No such file: {pubkey_file}")
        if path.stat().st_size > 65536:
            raise fail(f"{pubkey_file} is too large to be an SSH public key.")
        text = path.read_text(errors="replace")
    with open_session(db) as session:
        key = add_ssh_key(session, user=get_user(session, username), public_key=text)
    print(key.fingerprint_sha256)


@app.command("revoke-ssh-key")
@domain_errors
def revoke_key(
    username: str,
    fingerprint: Annotated[str, typer.Argument(help="SHA256:... or MD5:... as ssh-keygen -l.")],
    db: DbOption = None,
) -> None:
    """Revoke an SSH key: kept on record, but no longer proof of the account (SSH recovery
    refuses it)."""
    with open_session(db) as session:
        key = revoke_ssh_key(session, user=get_user(session, username), fingerprint=fingerprint)
    console.print(f"SSH key {key.fingerprint_sha256} is revoked.", highlight=False)


@app.command("reset-password")
@domain_errors
def reset_password(username: str, db: DbOption = None) -> None:
    """Email the account a single-use password-reset link, to its address on file only (the
    link is never shown here)."""
    with open_session(db) as session:
        user = get_user(session, username)
        sent = send_reset_link(session, user=user, actor="cli")
        address = user.email
    if not sent:
        raise fail(f"{username} was sent a reset link moments ago; try again in a minute.")
    console.print(
        f"A password-reset link for {username} is queued to {address}; it works once, within "
        f"{get_settings().password_reset_link_minutes} minutes.",
        highlight=False,
    )


@app.command("issue-token")
@domain_errors
def issue(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")],
    db: DbOption = None,
) -> None:
    """Issue a personal access token; it is printed once and never again."""
    with open_session(db) as session:
        issued = issue_token(session, user=get_user(session, username), name=name)
        token_id = issued.token.id
    err_console.print(f"Token {token_id} issued; copy it now, it will not be shown again:")
    print(issued.plaintext)


@app.command("revoke-token")
@domain_errors
def revoke(username: str, token_id: int, db: DbOption = None) -> None:
    """Revoke a personal access token by its id."""
    with open_session(db) as session:
        row = revoke_token(session, user=get_user(session, username), token_id=token_id)
    console.print(f"Token {row.id} ({mask_token(row.last4)}) is revoked.", highlight=False)


@app.command("show")
@domain_errors
def show(username: str, json_out: JsonOption = False, db: DbOption = None) -> None:
    """2FA state, recovery codes left, SSH keys and tokens (masked)."""
    with open_session(db, readonly=True) as session:
        user = get_user(session, username)
        status = two_factor_status(session, user)
        keys = list_ssh_keys(session, user)
        tokens = list_tokens(session, user)
    data = {
        "username": user.username,
        "email": user.email,
        "two_factor": {
            "enabled": status.enabled,
            "pending_enrolment": status.pending,
            "recovery_codes_left": status.recovery_codes_left,
            "low_on_recovery_codes": status.low_on_codes,
        },
        "ssh_keys": [
            {
                "id": k.id,
                "type": k.key_type,
                "bits": k.bits,
                "fingerprint_sha256": k.fingerprint_sha256,
                "fingerprint_md5": k.fingerprint_md5,
                "comment": k.comment,
                "revoked": k.revoked_at is not None,
            }
            for k in keys
        ],
        "tokens": [
            {
                "id": t.id,
                "name": t.name,
                "token": mask_token(t.last4),
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked": t.revoked_at is not None,
            }
            for t in tokens
        ],
    }
    if json_out:
        print_json(data)
        return
    two_fa = "[green]on[/]" if status.enabled else "[yellow]off[/]"
    console.print(f"[bold]{user.username}[/] <{user.email}>  2FA: {two_fa}", highlight=False)
    if status.enabled:
        warn = "  [yellow](running low)[/]" if status.low_on_codes else ""
        console.print(f"Recovery codes left: {status.recovery_codes_left}{warn}")
    table = Table(title="SSH keys", title_justify="left")
    table.add_column("SSH key")
    table.add_column("Fingerprint", no_wrap=True)
    table.add_column("Comment", overflow="fold")
    for k in data["ssh_keys"]:
        comment = f"{k['comment']} (revoked)" if k["revoked"] else k["comment"]
        table.add_row(f"{k['type']} ({k['bits']})", k["fingerprint_sha256"], comment)
    console.print(table)
    table = Table("Id", "Name", "Token", "Last used", "State", title="Access tokens")
    table.title_justify = "left"
    for t in data["tokens"]:
        state = "revoked" if t["revoked"] else "active"
        table.add_row(str(t["id"]), t["name"], t["token"], t["last_used_at"] or "never", state)
    console.print(table)
