"""TOTP as RFC 6238 and authenticator apps define it."""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest

from core.twofactor.totp import Provisioning, code_at_step, matching_step, new_secret, time_step
from tests.conftest import require

RFC6238_SHA1 = [  # (unix time, 8-digit value) from RFC 6238 appendix B
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(("unix", "expected"), RFC6238_SHA1)
def test_rfc6238_sha1_vectors(unix, expected):
    at = datetime.fromtimestamp(unix, UTC)
    assert code_at_step(RFC_SECRET, time_step(at)) == expected[-6:]


def test_secret_is_160_bits_of_base32():
    secret = new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert new_secret() != secret


def test_pin_matches_oathtool_a_different_implementation():
    require(
        shutil.which("oathtool") is not None, "oathtool is not installed (apt-get install oathtool)"
    )
    secret = new_secret()
    now = datetime.now(UTC)
    out = subprocess.run(
        ["oathtool", "--totp", "-b", secret, "--now", now.strftime("%Y-%m-%d %H:%M:%S UTC")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == code_at_step(secret, time_step(now))


def test_window_is_one_step_each_way():
    secret = new_secret()
    now = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
    step = time_step(now)
    for offset in (-1, 0, 1):
        assert matching_step(secret, code_at_step(secret, step + offset), now) == step + offset
    for offset in (-2, 2):
        assert matching_step(secret, code_at_step(secret, step + offset), now) is None


def test_provisioning_uri_and_manual_entry_for_authenticator_apps():
    prov = Provisioning(
        secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="alice", issuer="Hugging Face"
    )
    uri = urlparse(prov.uri)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert uri.path == "/Hugging%20Face:alice"
    query = parse_qs(uri.query)
    assert query["secret"] == [prov.secret] and query["issuer"] == ["Hugging Face"]
    manual = prov.manual_entry()
    assert manual["key"] == "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"
    assert (manual["algorithm"], manual["digits"], manual["period"]) == ("SHA1", 6, 30)
    assert (manual["issuer"], manual["account"]) == ("Hugging Face", "alice")
    assert prov.qr_png().startswith(b"\x89PNG")
    assert "<svg" in prov.qr_svg()
