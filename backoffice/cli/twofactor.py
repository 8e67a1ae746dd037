"""``backoffice 2fa`` and ``backoffice signin``: the 2FA flows from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from core.accounts.users import get_user
from core.errors import InvalidCode
from core.twofactor import (
    RECOVERY_CODES_FILE_NAME,
    RecoveryCodeSet,
    begin_enrolment,
    confirm_enrolment,
    disable_two_factor,
    regenerate_recovery_codes,
    sign_in,
)
from core.twofactor.totp import COMPATIBLE_APPS, Provisioning

app = typer.Typer(help="Two-factor authentication for an account.", no_args_is_help=True)

CodesFileOption = Annotated[
    Path,
    typer.Option("--codes-file", help="Where to write the recovery codes.", dir_okay=False),
]


def _save_codes(codes: RecoveryCodeSet, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(codes.file_text())
    path.chmod(0o600)
    console.print(f"{len(codes.codes)} recovery codes saved to [bold]{path}[/].", highlight=False)
    console.print("Store them somewhere safe; each one signs in once.")


def _print_manual_entry(prov: Provisioning) -> None:
    for name, value in prov.manual_entry().items():
        console.print(f"  {name.capitalize():<10} {value}", highlight=False)
    console.print(f"Works with {', '.join(COMPATIBLE_APPS)}.")


@app.command("begin")
@domain_errors
def begin(
    username: str,
    json_out: JsonOption = False,
    qr: Annotated[
        Path | None, typer.Option("--qr", help="Write the QR code to FILE.svg or FILE.png.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Start enrolment: prints the secret and otpauth URI (confirm with `2fa confirm`)."""
    if qr is not None and qr.suffix.lower() not in (".svg", ".png"):
        raise fail("--qr takes a file name ending in .svg or .png.")
    with open_session(db) as session:
        prov = begin_enrolment(session, user=get_user(session, username))
    if qr is not None:
        if qr.suffix.lower() == ".svg":
            qr.write_text(prov.qr_svg())
        else:
            qr.write_bytes(prov.qr_png())
    if json_out:
        print_json({"secret": prov.secret, "otpauth_uri": prov.uri, **prov.manual_entry()})
        return
    console.print(f"otpauth URI: {prov.uri}", highlight=False, soft_wrap=True)
    _print_manual_entry(prov)
    if qr is not None:
        console.print(f"QR code written to {qr}.", highlight=False)
    console.print(f"Then run: backoffice 2fa confirm {username} PIN")


@app.command("confirm")
@domain_errors
def confirm(
    username: str,
    pin: str,
    codes_file: CodesFileOption = Path(RECOVERY_CODES_FILE_NAME),
    db: DbOption = None,
) -> None:
    """Turn 2FA on with the app's current pin; writes the recovery codes file."""
    with open_session(db) as session:
        codes = confirm_enrolment(session, user=get_user(session, username), pin=pin)
    console.print("[green]Two-factor authentication is on.[/]")
    _save_codes(codes, codes_file)


@app.command("enable")
@domain_errors
def enable(
    username: str,
    codes_file: CodesFileOption = Path(RECOVERY_CODES_FILE_NAME),
    db: DbOption = None,
) -> None:
    """Interactive enrolment: scan the QR code in the terminal, then type the pin."""
    with open_session(db) as session:
        prov = begin_enrolment(session, user=get_user(session, username))
    console.print("Scan this QR code with your authenticator app:")
    print(prov.qr_terminal())
    console.print("Or enter the details by hand:")
    _print_manual_entry(prov)
    for attempt in range(3):
        pin = typer.prompt("Pin code from the app")
        try:
            with open_session(db) as session:
                codes = confirm_enrolment(session, user=get_user(session, username), pin=pin)
            break
        except InvalidCode as exc:
            err_console.print(f"[red]{exc}[/]")
            if attempt == 2:
                raise fail(
                    "Enrolment not confirmed; it stays pending, run `2fa enable` again."
                ) from exc
    console.print("[green]Two-factor authentication is on.[/]")
    _save_codes(codes, codes_file)


@app.command("regenerate-codes")
@domain_errors
def regenerate(
    username: str,
    code: Annotated[str | None, typer.Option("--code", help="A current authenticator pin.")] = None,
    codes_file: CodesFileOption = Path(RECOVERY_CODES_FILE_NAME),
    db: DbOption = None,
) -> None:
    """Replace every recovery code; the old ones stop working."""
    pin = code or typer.prompt("Current pin from your authenticator app")
    with open_session(db) as session:
        codes = regenerate_recovery_codes(session, user=get_user(session, username), pin=pin)
    console.print("New recovery codes generated; every earlier code is void.")
    _save_codes(codes, codes_file)


@app.command("disable")
@domain_errors
def disable(
    username: str,
    code: Annotated[str | None, typer.Option("--code", help="A current authenticator pin.")] = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
) -> None:
    """Remove 2FA (TOTP and recovery codes); needs the password and a current pin."""
    password = read_password(password_stdin)
    pin = code or typer.prompt("Current pin from your authenticator app")
    with open_session(db) as session:
        disable_two_factor(session, user=get_user(session, username), password=password, pin=pin)
    console.print("Two-factor authentication is off; every registration was cleared.")


def register_signin(root: typer.Typer) -> None:
    root.command("signin")(signin)


@domain_errors
def signin(
    login: Annotated[str, typer.Argument(help="Username or email.")],
    password_stdin: PasswordStdinOption = False,
    totp: Annotated[str | None, typer.Option("--totp", help="Authenticator pin.")] = None,
    recovery_code: Annotated[
        str | None, typer.Option("--recovery-code", help="One of your recovery codes.")
    ] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Sign in; exits 0 only when the sign-in is complete."""
    if totp and recovery_code:
        raise fail("Give either --totp or --recovery-code, not both.")
    password = read_password(password_stdin)
    with open_session(db) as session:
        result = sign_in(
            session, login=login, password=password, totp_pin=totp, recovery_code=recovery_code
        )
    out = {
        "signed_in": result.complete,
        "username": result.user.username,
        "method": result.method,
        "second_factor_required": not result.complete,
    }
    if result.recovery is not None:
        out["recovery_codes_left"] = result.recovery.remaining
        out["low_on_recovery_codes"] = result.recovery.low
    if json_out:
        print_json(out)
    elif result.complete:
        console.print(f"Signed in as [bold]{result.user.username}[/] ({result.method}).")
        if result.recovery is not None:
            console.print(f"{result.recovery.remaining} recovery codes left.")
            if result.recovery.low:
                console.print("[yellow]You are running low: regenerate your recovery codes.[/]")
    if not result.complete:
        if not json_out:
            err_console.print(
                "Two-factor authentication is on: give --totp PIN or --recovery-code CODE."
            )
        raise typer.Exit(2)
