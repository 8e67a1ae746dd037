"""The "Lost everything?" page and the ``backoffice portal`` command line."""

from __future__ import annotations

import os

from typer.testing import CliRunner

from backoffice.cli import app
from backoffice.cli.portal import portal_command, portal_env
from backoffice.portal import APP_PATH


def test_lost_everything_explains_the_options_in_order(portal, monkeypatch):
    from core.settings import get_settings

    monkeypatch.setenv("BACKOFFICE_SUPPORT_ADDRESS", "help@example.org")
    monkeypatch.setenv("BACKOFFICE_SSHSIG_NAMESPACE", "recovery@example.org")
    get_settings.cache_clear()
    portal.open("lost_everything")
    headers = portal.texts("header")
    assert headers == [
        "1. Use a recovery code",
        "2. Email support",
        "3. Prove you hold the SSH key",
        "4. What happens next",
    ]
    text = portal.page_text()
    assert "help@example.org" in text
    assert "SSH public key" in text and "User Access Token" in text
    assert (
        "ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n recovery@example.org challenge.txt"
        in portal.texts("code")
    )
    assert "working days" in text

    portal.fill("lost_account", "alice").run()
    assert any("Account name: alice" in c for c in portal.texts("code"))
    (mail,) = portal.at.get("link_button")
    assert mail.proto.url == "mailto:help@example.org?subject=2FA%20recovery%20for%20alice"


def test_portal_command_runs_streamlit_headless_and_locked_down():
    argv = portal_command(8600)
    assert argv[1:5] == ["-m", "streamlit", "run", str(APP_PATH)]
    options = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert options == {
        "--server.headless": "true",
        "--server.address": "127.0.0.1",
        "--server.port": "8600",
        "--browser.gatherUsageStats": "false",
        "--server.enableXsrfProtection": "true",
        "--client.showErrorDetails": "false",
        "--client.toolbarMode": "minimal",
    }


def test_portal_env_carries_the_database_url_and_this_checkout():
    env = portal_env("sqlite:///x.db", base={"PATH": "/bin", "PYTHONPATH": "/extra"})
    assert env == {
        "PATH": "/bin",
        "BACKOFFICE_DATABASE_URL": "sqlite:///x.db",
        "PYTHONPATH": f"{APP_PATH.parents[2]}{os.pathsep}/extra",
    }
    assert "BACKOFFICE_DATABASE_URL" not in portal_env(None, base={})


def test_portal_is_a_backoffice_command():
    result = CliRunner().invoke(app, ["portal", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--db" in result.output
