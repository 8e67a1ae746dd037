"""``backoffice staff`` and ``backoffice serve`` from the command line."""

from __future__ import annotations

import json

import pyotp
from typer.testing import CliRunner

from backoffice.cli import app
from backoffice.cli.staff import serve_command
from core.staff import staff_sign_in_password, staff_sign_in_second_factor
from core.store import session_scope

PASSWORD = "a long staff password"


def test_staff_create_prints_a_working_enrolment(engine):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["staff", "create", "ann", "--role", "agent", "--password-stdin", "--json"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    enrolment = json.loads(result.stdout)
    assert enrolment["email"] == "ann@huggingface.co" and enrolment["role"] == "agent"
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    with session_scope(engine) as s:
        staff = staff_sign_in_password(s, login="ann", password=PASSWORD)
        pin = pyotp.TOTP(enrolment["totp_secret"]).now()
        assert staff_sign_in_second_factor(s, staff=staff, pin=pin).role == "agent"

    listed = runner.invoke(app, ["staff", "list", "--json"])
    assert json.loads(listed.stdout) == [
        {"username": "ann", "email": "ann@huggingface.co", "role": "agent", "active": True}
    ]
    assert runner.invoke(app, ["staff", "set", "ann", "--inactive"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["staff", "list", "--json"]).stdout)[0]["active"] is False


def test_staff_create_refuses_an_unknown_role_in_one_line(engine):
    result = CliRunner().invoke(
        app, ["staff", "create", "x", "--role", "root", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 1
    assert "A role is one of agent, admin, ops" in result.output
    assert "Traceback" not in result.output


def test_serve_is_locked_down():
    argv = serve_command(9999)
    flags = dict(zip(argv[5::2], argv[6::2], strict=False))
    assert argv[2:4] == ["streamlit", "run"] and argv[4].endswith("backoffice/staff/app.py")
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.enableXsrfProtection"] == "true"
    assert flags["--client.showErrorDetails"] == "false"
    assert flags["--server.port"] == "9999" and flags["--server.address"] == "127.0.0.1"
