"""Shipped demo data for ``backoffice demo``: Hub accounts (accounts.json) and a demo inbox of
recovery emails (inbox/*.eml). DEMO ONLY: the passwords are public. SSH keys and access
tokens are generated fresh on every run; ``{{placeholders}}`` in the emails are filled with
them (and with a real signature of the ticket's challenge) when the demo is built."""

from pathlib import Path

DEMO_DATA_DIR = Path(__file__).parent
ACCOUNTS_FILE = DEMO_DATA_DIR / "accounts.json"
INBOX_DIR = DEMO_DATA_DIR / "inbox"

__all__ = ["ACCOUNTS_FILE", "DEMO_DATA_DIR", "INBOX_DIR"]
