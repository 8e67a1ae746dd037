"""The account portal: a Hub user's own sign-in, 2FA settings and recovery help (Streamlit).

Start it with ``backoffice portal``; ``APP_PATH`` is the script ``streamlit run`` takes."""

from pathlib import Path

APP_PATH = Path(__file__).with_name("app.py")

__all__ = ["APP_PATH"]
