"""The supervisor keeps services running: a bug restarts the service (with its traceback in
the log) instead of ending the process, heartbeats follow each service, a clean stop exits
0 and a service that ignores the stop makes it exit 1 after the grace period."""

from __future__ import annotations

import logging
import threading

from core.settings import get_settings
from core.store import session_scope
from core.workers import list_heartbeats
from core.workers import supervisor as supervisor_module
from core.workers.supervisor import Supervisor
from tests.support.own_postgres import wait_until


class FakeService:
    def __init__(self, kind: str, *, fail_first: bool = False, ignore_stop: bool = False):
        self.kind = kind
        self.fail_first = fail_first
        self.ignore_stop = ignore_stop
        self.runs = 0
        self.release = threading.Event()

    def describe(self) -> str:
        return f"fake {self.kind}"

    def start(self) -> None:
        pass

    def run(self, stop: threading.Event) -> None:
        self.runs += 1
        if self.fail_first and self.runs == 1:
            raise RuntimeError("a bug")
        (self.release if self.ignore_stop else stop).wait()

    def degraded(self) -> str | None:
        return None

    def details(self):
        return {"runs": self.runs}


def _run(supervisor: Supervisor) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(supervisor.run(install_signals=False)))
    thread.start()
    return thread, codes


def test_a_failing_service_is_restarted_and_the_others_keep_running(engine, caplog, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_HEARTBEAT_SECONDS", "0.1")
    get_settings.cache_clear()
    flaky, steady = FakeService("imap", fail_first=True), FakeService("smtpd")
    supervisor = Supervisor([flaky, steady], engine, process_kind="worker")
    thread, codes = _run(supervisor)
    wait_until(lambda: flaky.runs == 2, 10, "the restart")

    def statuses():
        with session_scope(engine, readonly=True) as s:
            return {h.kind: (h.status, h.details.get("runs")) for h in list_heartbeats(s)}

    wait_until(lambda: statuses().get("imap") == ("running", 2), 10, "the heartbeats")
    assert statuses()["smtpd"] == ("running", 1) and statuses()["worker"][0] == "running"
    supervisor.stop.set()
    thread.join(timeout=30)
    assert codes == [0]
    assert {status for status, _ in statuses().values()} == {"stopped"}
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failed) == 1 and "imap failed; restarting it" in failed[0].getMessage()
    assert failed[0].exc_info is not None  # the traceback, for a real bug


def test_a_service_that_ignores_the_stop_makes_the_exit_status_1(engine, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_SHUTDOWN_GRACE_SECONDS", "0")
    monkeypatch.setattr(supervisor_module, "JOIN_MARGIN_SECONDS", 0.3)
    get_settings.cache_clear()
    stubborn = FakeService("maildir", ignore_stop=True)
    supervisor = Supervisor([stubborn], engine)
    thread, codes = _run(supervisor)
    wait_until(lambda: stubborn.runs == 1, 10, "the service to start")
    supervisor.stop.set()
    thread.join(timeout=30)
    stubborn.release.set()
    assert codes == [1]


def test_a_stop_before_the_service_thread_begins_still_runs_it_to_release_what_it_took(engine):
    """A signal that lands between ``start`` (a listener, its thread) and the service thread's
    first ``run`` used to skip ``run``, so nothing closed the listener and the process hung."""
    early = FakeService("sshd")
    supervisor = Supervisor([early], engine)
    supervisor.stop.set()
    assert supervisor.run(install_signals=False) == 0
    assert early.runs == 1
