"""The `backoffice` CLI for accounts, 2FA and sign-in, as a user would type it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pyotp
from typer.testing import CliRunner

from backoffice.cli import app
from core.twofactor.totp import code_at_step, time_step
from tests.support.ssh import make_key

runner = CliRunner()
PASSWORD = "correct horse battery\n"


def cli(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def create_alice() -> None:
    created = cli(
        "accounts",
        "create",
        "alice",
        "--email",
        "alice@example.com",
        "--password-stdin",
        input=PASSWORD,
    )
    assert created.exit_code == 0, created.output


def enable_2fa(tmp_path, username="alice") -> tuple[str, list[str]]:
    begun = cli("2fa", "begin", username, "--json", "--qr", str(tmp_path / "qr.svg"))
    assert begun.exit_code == 0, begun.output
    secret = json.loads(begun.stdout)["secret"]
    assert (tmp_path / "qr.svg").read_text().lstrip().startswith("<svg")
    pin = pyotp.TOTP(secret).now()
    codes_file = tmp_path / "codes.txt"
    done = cli("2fa", "confirm", username, pin, "--codes-file", str(codes_file))
    assert done.exit_code == 0, done.output
    codes = [line for line in codes_file.read_text().splitlines() if line.count("-") == 3]
    return secret, codes


def test_full_session(engine, tmp_path):
    create_alice()
    pair = make_key(tmp_path)
    added = cli("accounts", "add-ssh-key", "alice", str(pair.private_path) + ".pub")
    assert added.stdout.strip() == pair.keygen_fingerprint()
    token = cli("accounts", "issue-token", "alice", "--name", "ci").stdout.strip().splitlines()[-1]
    assert token.startswith("hf_") and len(token) == 37

    signed = cli("signin", "alice", "--password-stdin", "--json", input=PASSWORD)
    assert signed.exit_code == 0 and json.loads(signed.stdout)["signed_in"]

    secret, codes = enable_2fa(tmp_path)
    assert len(codes) == 16
    incomplete = cli("signin", "alice", "--password-stdin", "--json", input=PASSWORD)
    assert incomplete.exit_code != 0
    assert json.loads(incomplete.stdout)["second_factor_required"]

    next_pin = code_at_step(secret, time_step(datetime.now(UTC)) + 1)
    ok = cli(
        "signin",
        "alice@example.com",
        "--password-stdin",
        "--totp",
        next_pin,
        "--json",
        input=PASSWORD,
    )
    assert ok.exit_code == 0, ok.output
    replay = cli("signin", "alice", "--password-stdin", "--totp", next_pin, input=PASSWORD)
    assert replay.exit_code == 1 and "already used" in replay.stderr

    used = cli(
        "signin", "alice", "--password-stdin", "--recovery-code", codes[0], "--json", input=PASSWORD
    )
    assert used.exit_code == 0 and json.loads(used.stdout)["recovery_codes_left"] == 15
    again = cli("signin", "alice", "--password-stdin", "--recovery-code", codes[0], input=PASSWORD)
    assert again.exit_code == 1

    shown = json.loads(cli("accounts", "show", "alice", "--json").stdout)
    assert shown["two_factor"] == {
        "enabled": True,
        "pending_enrolment": False,
        "recovery_codes_left": 15,
        "low_on_recovery_codes": False,
    }
    assert shown["ssh_keys"][0]["fingerprint_sha256"] == pair.keygen_fingerprint()
    assert shown["tokens"][0]["token"] == "hf_…" + token[-4:]
    assert token not in json.dumps(shown)

    revoked = cli("accounts", "revoke-token", "alice", str(shown["tokens"][0]["id"]))
    assert revoked.exit_code == 0
    assert json.loads(cli("accounts", "show", "alice", "--json").stdout)["tokens"][0]["revoked"]


def test_clear_errors_and_nonzero_exit(engine, tmp_path):
    assert cli("accounts", "show", "nobody").exit_code == 1
    create_alice()
    bad_key = tmp_path / "bad.pub"
    bad_key.write_text("ssh-ed25519 AAAA-broken")
    result = cli("accounts", "add-ssh-key", "alice", str(bad_key))
    assert result.exit_code == 1 and "base64" in result.stderr
    assert "Traceback" not in result.output
    enable_2fa(tmp_path)
    wrong = cli("signin", "alice", "--password-stdin", "--totp", "12345", input=PASSWORD)
    assert wrong.exit_code == 1 and "6-digit" in wrong.stderr
    bad_password = cli("signin", "alice", "--password-stdin", input="nope\n")
    assert bad_password.exit_code == 1 and "Wrong username/email or password" in bad_password.stderr


def test_regenerate_codes_voids_the_old_set(engine, tmp_path):
    create_alice()
    secret, codes = enable_2fa(tmp_path)
    wrong = cli(
        "2fa",
        "regenerate-codes",
        "alice",
        "--code",
        "000000",
        "--codes-file",
        str(tmp_path / "x.txt"),
    )
    assert wrong.exit_code == 1 and not (tmp_path / "x.txt").exists()
    next_pin = code_at_step(secret, time_step(datetime.now(UTC)) + 1)
    new_file = tmp_path / "new.txt"
    regenerated = cli(
        "2fa", "regenerate-codes", "alice", "--code", next_pin, "--codes-file", str(new_file)
    )
    assert regenerated.exit_code == 0, regenerated.output
    new_codes = [line for line in new_file.read_text().splitlines() if line.count("-") == 3]
    old = cli("signin", "alice", "--password-stdin", "--recovery-code", codes[1], input=PASSWORD)
    assert old.exit_code == 1
    new = cli(
        "signin", "alice", "--password-stdin", "--recovery-code", new_codes[1], input=PASSWORD
    )
    assert new.exit_code == 0, new.output


def test_disable_needs_password_and_code(engine, tmp_path):
    create_alice()
    secret, _ = enable_2fa(tmp_path)
    next_pin = code_at_step(secret, time_step(datetime.now(UTC)) + 1)
    bad = cli(
        "2fa", "disable", "alice", "--password-stdin", "--code", next_pin, input="wrong password\n"
    )
    assert bad.exit_code == 1 and "password" in bad.stderr
    disabled = cli(
        "2fa", "disable", "alice", "--password-stdin", "--code", next_pin, input=PASSWORD
    )
    assert disabled.exit_code == 0, disabled.output
    shown = json.loads(cli("accounts", "show", "alice", "--json").stdout)["two_factor"]
    assert shown["enabled"] is False and shown["recovery_codes_left"] == 0
    plain = cli("signin", "alice", "--password-stdin", input=PASSWORD)
    assert plain.exit_code == 0


def _signin_process(db_url: str, env: dict[str, str], attempts: int) -> subprocess.Popen:
    script = (
        "import sys\n"
        "from core.errors import DomainError\n"
        "from core.store import get_engine, session_scope\n"
        "from core.twofactor import sign_in\n"
        f"for _ in range({attempts}):\n"
        "    try:\n"
        f"        with session_scope(get_engine({db_url!r})) as s:\n"
        "            sign_in(s, login='alice', password='correct horse battery',\n"
        "                    totp_pin='000000')\n"
        "    except DomainError as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )


def test_throttle_holds_across_two_processes(engine, db_url, tmp_path):
    create_alice()
    enable_2fa(tmp_path)
    env = {
        **os.environ,
        "BACKOFFICE_THROTTLE_FREE_FAILURES": "30",
        "BACKOFFICE_THROTTLE_LOCK_AFTER": "20",
    }
    procs = [_signin_process(db_url, env, 10) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert sorted(outputs[0] + outputs[1]) == ["InvalidCode"] * 20
    # a third process, and the CLI, now see the lock the first two built together
    third = _signin_process(db_url, env, 1)
    assert third.communicate(timeout=60)[0].split() == ["Throttled"]
    locked = cli("signin", "alice", "--password-stdin", "--totp", "000000", input=PASSWORD)
    assert locked.exit_code == 1 and "locked" in locked.stderr
