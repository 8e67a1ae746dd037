"""Drives the portal through ``AppTest`` the way a user would: fill a field, press a button,
read what the page shows. Pins come from pyotp with the secret read off the page."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pyotp
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from backoffice.portal import APP_PATH
from backoffice.portal.state import CLOCK_KEY

RUN_TIMEOUT = 60
GROUPED_SECRET = re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$")
RECOVERY_CODE = re.compile(r"^[0-9a-z]{4}(-[0-9a-z]{4}){3}$")


class PortalDriver:
    def __init__(self, *, clock, media: MemoryMediaFileStorage) -> None:
        self.clock = clock
        self.media = media
        self.at = AppTest.from_file(str(APP_PATH), default_timeout=RUN_TIMEOUT)
        self.at.session_state[CLOCK_KEY] = clock
        self.run()
        self.secret: str | None = None

    def run(self) -> PortalDriver:
        self.at.run()
        assert not self.at.exception, [e.value for e in self.at.exception]
        return self

    def open(self, page: str) -> PortalDriver:
        self.at.switch_page(f"views/{page}.py")
        return self.run()

    def fill(self, key: str, value: str) -> PortalDriver:
        self.at.text_input(key=key).input(value)
        return self

    def press(self, key: str) -> PortalDriver:
        self.at.button(key=key).click()
        return self.run()

    # What the page shows.
    def texts(self, kind: str) -> list[str]:
        return [el.value for el in getattr(self.at, kind)]

    def errors(self) -> list[str]:
        return self.texts("error")

    def page_text(self) -> str:
        kinds = ("title", "header", "subheader", "markdown", "caption", "code", "success")
        kinds += ("info", "warning", "error")
        return "\n".join(str(v) for kind in kinds for v in self.texts(kind))

    def has(self, key: str) -> bool:
        return any(w.key == key for w in self.at.get("button") + self.at.get("text_input"))

    def metric(self, label: str) -> str:
        return next(m.value for m in self.at.metric if m.label == label)

    def shown_codes(self) -> list[str]:
        return [
            line
            for block in self.texts("code")
            for line in block.splitlines()
            if RECOVERY_CODE.match(line)
        ]

    def media_file(self, url: str) -> bytes:
        return self.media.get_file(PurePosixPath(url).name).content

    def download(self, key: str) -> tuple[str, bytes]:
        """The file name and bytes the download button serves."""
        url = self.at.download_button(key=key).proto.url
        stored = self.media.get_file(PurePosixPath(url).name)
        return stored.filename, stored.content

    # Flows.
    def pin(self) -> str:
        assert self.secret, "enable 2FA first"
        return pyotp.TOTP(self.secret).at(self.clock())

    def next_pin(self) -> str:
        self.clock.advance(seconds=30)
        return self.pin()

    def sign_in(self, login: str, password: str) -> PortalDriver:
        self.open("sign_in")
        self.fill("signin_login", login).fill("signin_password", password)
        return self.press("signin_submit")

    def second_factor(self, pin: str) -> PortalDriver:
        return self.fill("signin_pin", pin).press("signin_verify")

    def recovery_code(self, code: str) -> PortalDriver:
        if not self.has("signin_recovery_code"):
            self.press("use_recovery_code")
        return self.fill("signin_recovery_code", code).press("signin_verify")

    def sign_out(self) -> PortalDriver:
        return self.press("sign_out")

    def start_enrolment(self) -> str:
        """Press *Add Two-Factor Authentication* and read the key from the manual entry."""
        self.open("authentication").press("add_2fa")
        grouped = next(c for c in self.texts("code") if GROUPED_SECRET.match(c))
        self.secret = grouped.replace(" ", "")
        return self.secret

    def enable(self, login: str, password: str) -> list[str]:
        """Sign in, enable 2FA with the right pin; returns the recovery codes shown."""
        self.sign_in(login, password)
        self.start_enrolment()
        self.fill("enrol_pin", self.next_pin()).press("enrol_save")
        codes = self.shown_codes()
        assert codes, self.page_text()
        return codes
