"""``backoffice staff ...`` (accounts for the back office) and ``backoffice serve`` (the staff
app, locked down for real use)."""

from __future__ import annotations

from typing import Annotated

import typer

from backoffice.cli.common import (
    DbOption,
    JsonOption,
    PasswordStdinOption,
    console,
    domain_errors,
    open_session,
    print_json,
    read_password,
)
from backoffice.cli.streamlit_server import (
    DEFAULT_HOST,
    HostOption,
    PortOption,
    serve_app,
    streamlit_command,
)
from backoffice.staff import APP_PATH
from core.settings import get_settings
from core.staff import StaffEnrolment, create_staff, list_staff, update_staff
from core.twofactor import Provisioning

app = typer.Typer(help="Staff accounts of the back office (password + TOTP, with a role).")

DEFAULT_PORT = 8501


def print_enrolment(enrolment: StaffEnrolment) -> None:
    """The one-time 2FA hand-over: QR code, manual key and otpauth URI."""
    provisioning = Provisioning(
        secret=enrolment.secret, account=enrolment.username, issuer=get_settings().totp_issuer
    )
    console.print(provisioning.qr_terminal(), highlight=False)
    console.print(f"Authenticator key: [bold]{provisioning.grouped_secret}[/]", highlight=False)
    console.print(f"otpauth URI: {enrolment.uri}", highlight=False, soft_wrap=True)
    console.print(
        "Hand this to the staff member over a trusted channel; it is not shown again.",
        style="yellow",
    )


@app.command("create")
@domain_errors
def create(
    username: Annotated[str, typer.Argument(help="The staff member's username.")],
    role: Annotated[str, typer.Option("--role", help="agent, admin or ops.")],
    email: Annotated[
        str | None, typer.Option("--email", help="Default: NAME@ the support domain.")
    ] = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create a staff account with 2FA already on, and print its authenticator enrolment."""
    password = read_password(password_stdin, confirm=True)
    domain = get_settings().support_address.rpartition("@")[2]
    with open_session(db) as session:
        enrolment = create_staff(
            session,
            username=username,
            email=email or f"{username}@{domain}",
            role=role,
            password=password,
            created_by="cli",
        )
    if as_json:
        print_json(
            {
                "username": enrolment.username,
                "email": enrolment.email,
                "role": enrolment.role,
                "totp_secret": enrolment.secret,
                "otpauth_uri": enrolment.uri,
            }
        )
        return
    console.print(f"Created {enrolment.role} [bold]{enrolment.username}[/] ({enrolment.email}).")
    print_enrolment(enrolment)


@app.command("list")
def list_command(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Every staff member with role and whether they can sign in."""
    with open_session(db, readonly=True) as session:
        members = list_staff(session)
    rows = [
        {"username": m.username, "email": m.email, "role": m.role, "active": a} for m, a in members
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = "active" if row["active"] else "deactivated"
        console.print(f"{row['username']:<20} {row['role']:<6} {state:<11} {row['email']}")


@app.command("set")
@domain_errors
def set_command(
    username: str,
    role: Annotated[str | None, typer.Option("--role", help="agent, admin or ops.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Allow or stop sign-in.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Change a staff member's role or switch their access on or off."""
    with open_session(db) as session:
        member = update_staff(session, username=username, role=role, active=active, actor="cli")
    console.print(f"{member.username}: {member.role}")


def serve_command(port: int = DEFAULT_PORT, *, host: str = DEFAULT_HOST) -> list[str]:
    """The ``streamlit run`` argv for the staff app."""
    return streamlit_command(APP_PATH, port, host=host)


def serve(
    port: PortOption = DEFAULT_PORT,
    host: HostOption = DEFAULT_HOST,
    db: DbOption = None,
) -> None:
    """Serve the staff back office against the configured database."""
    serve_app(APP_PATH, title="Staff back office", port=port, host=host, db_url=db)
