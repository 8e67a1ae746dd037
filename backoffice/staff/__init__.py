"""The staff back office: queue, tickets, ops figures and mail (Streamlit).

Start it with ``backoffice serve`` (or ``backoffice demo``); ``APP_PATH`` is the script
``streamlit run`` takes."""

from pathlib import Path

APP_PATH = Path(__file__).with_name("app.py")

__all__ = ["APP_PATH"]
