"""Real SSH keys made by ssh-keygen at test time."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

KEY_SPECS = {
    "ed25519": ["-t", "ed25519"],
    "rsa": ["-t", "rsa", "-b", "2048"],
    "ecdsa": ["-t", "ecdsa", "-b", "256"],
    "ecdsa384": ["-t", "ecdsa", "-b", "384"],
}


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_line: str

    def keygen_fingerprint(self, hash_name: str = "sha256") -> str:
        """The fingerprint exactly as ``ssh-keygen -l`` prints it."""
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", hash_name, "-f", str(self.private_path) + ".pub"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.split()[1]


def make_key(directory: Path, kind: str = "ed25519", comment: str = "test@example") -> KeyPair:
    path = directory / f"id_{kind}_{len(list(directory.glob('id_*')))}"
    subprocess.run(
        ["ssh-keygen", "-q", *KEY_SPECS[kind], "-N", "", "-C", comment, "-f", str(path)],
        check=True,
    )
    return KeyPair(private_path=path, public_line=Path(f"{path}.pub").read_text().strip())
