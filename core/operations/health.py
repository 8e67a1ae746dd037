"""``backoffice health``: does each part this deployment depends on answer, and is any
queue stuck? One ``Check`` per part (database and its schema, the SMTP relay, each enabled
mail source, the outbox's oldest waiting email, the oldest quarantined message, the workers'
heartbeats); a report is healthy when every check is. Checks that need the database are
skipped, as problems, when it does not answer."""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

from core.clock import Clock, system_clock
from core.errors import DomainError
from core.settings import Settings, get_settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Thresholds:
    """How old the oldest waiting item may be before it is a problem, and how long a
    running worker may stay silent (a few missed heartbeats) before it counts as dead."""

    outbox_max_age: timedelta = timedelta(minutes=15)
    quarantine_max_age: timedelta = timedelta(hours=24)
    worker_max_silence: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks]}


def human_age(age: timedelta) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``40 s``: the two largest units."""
    seconds = int(age.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts[:2])


def _error_words(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _tls_context(settings: Settings) -> ssl.SSLContext:
    return ssl.create_default_context(
        cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    )


def check_smtp_relay(settings: Settings, timeout: float) -> Check:
    """Connect, EHLO, STARTTLS when configured, log in when a user is set, NOOP, QUIT: what
    the sender does before its first message, without sending one."""
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        if settings.smtp_ssl:
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=_tls_context(settings),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            client.ehlo()
            if settings.smtp_starttls:
                client.starttls(context=_tls_context(settings))
                client.ehlo()
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                client.login(settings.smtp_username, password)
            code, _ = client.noop()
        if code != 250:
            return Check("smtp", False, f"relay {where} answered NOOP with {code}")
    except (OSError, smtplib.SMTPException) as exc:
        return Check("smtp", False, f"relay {where} does not answer: {_error_words(exc)}")
    return Check("smtp", True, f"relay {where} answers")


def check_imap_source(settings: Settings, timeout: float) -> Check:
    """Log in to the configured IMAP folder's server and select the folder (read-only)."""
    security = settings.imap_security
    port = settings.imap_port or (993 if security == "ssl" else 143)
    where = f"{settings.imap_host}:{port}/{settings.imap_folder}"
    try:
        if security == "ssl":
            client = imaplib.IMAP4_SSL(settings.imap_host, port, timeout=timeout)
        else:
            client = imaplib.IMAP4(settings.imap_host, port, timeout=timeout)
            if security == "starttls":
                client.starttls()
        try:
            password = settings.imap_password.get_secret_value() if settings.imap_password else ""
            client.login(settings.imap_user or "", password)
            status, _ = client.select(settings.imap_folder, readonly=True)
            if status != "OK":
                return Check("imap", False, f"IMAP {where}: the folder cannot be selected")
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
    except (OSError, imaplib.IMAP4.error) as exc:
        return Check("imap", False, f"IMAP {where} does not answer: {_error_words(exc)}")
    return Check("imap", True, f"IMAP {where} answers")


def check_smtp_receiver(settings: Settings, timeout: float) -> Check:
    """The worker's SMTP receiver greets with 220 (it is our own process listening)."""
    where = f"{settings.smtpd_host}:{settings.smtpd_port}"
    try:
        with smtplib.SMTP(settings.smtpd_host, settings.smtpd_port, timeout=timeout) as client:
            code, _ = client.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return Check("smtpd", False, f"SMTP receiver {where} does not answer: {_error_words(exc)}")
    if code != 250:
        return Check("smtpd", False, f"SMTP receiver {where} answered NOOP with {code}")
    return Check("smtpd", True, f"SMTP receiver {where} answers")


def check_maildir_source(settings: Settings) -> Check:
    new = settings.maildir_watch / "new"
    if not new.is_dir():
        return Check("maildir", False, f"Maildir {settings.maildir_watch} has no new/ folder")
    return Check("maildir", True, f"Maildir {settings.maildir_watch} is readable")


def source_checks(settings: Settings, timeout: float) -> list[Check]:
    """The relay, and each mail source the worker settings enable."""
    checks = [check_smtp_relay(settings, timeout)]
    if settings.imap_host:
        checks.append(check_imap_source(settings, timeout))
    if settings.smtpd_port:
        checks.append(check_smtp_receiver(settings, timeout))
    if settings.maildir_watch:
        checks.append(check_maildir_source(settings))
    return checks


def database_checks(db_url: str | None, thresholds: Thresholds, clock: Clock) -> list[Check]:
    """The database answers at the schema this code expects; nothing waits too long."""
    from sqlalchemy.exc import DBAPIError

    from core.stats.queues import outbox_queue, quarantine
    from core.store.engine import (
        AHEAD,
        BEHIND,
        database_fault,
        get_engine,
        head_revisions,
        schema_state,
        session_scope,
    )
    from core.workers.heartbeats import STOPPED, list_heartbeats

    try:
        engine = get_engine(db_url, upgrade=False)
        state = schema_state(engine)
    except DomainError as exc:
        return [Check("database", False, str(exc)), *_skipped("outbox", "quarantine", "workers")]
    except DBAPIError as exc:  # the server refuses, the file is damaged, ...
        return [
            Check("database", False, str(database_fault(exc, db_url))),
            *_skipped("outbox", "quarantine", "workers"),
        ]
    heads = ", ".join(sorted(head_revisions()))
    if state == BEHIND:
        return [
            Check(
                "database",
                False,
                f"schema is behind migration {heads}; run `backoffice migrate`",
            ),
            *_skipped("outbox", "quarantine", "workers"),
        ]
    checks = [
        Check(
            "database",
            True,
            "answers, schema newer than this release (a rollout is under way?)"
            if state == AHEAD
            else "answers, schema at the newest migration",
        )
    ]
    now = clock()
    with session_scope(engine, readonly=True) as session:
        outbox = outbox_queue(session, clock=clock)
        held = quarantine(session, clock=clock)
        workers = [w for w in list_heartbeats(session) if w.status != STOPPED]
    checks.append(
        _age_check(
            "outbox",
            outbox.oldest_waiting_age,
            thresholds.outbox_max_age,
            f"{outbox.waiting} waiting, {outbox.counts['failed']} failed",
            "the oldest waiting email was queued",
        )
    )
    checks.append(
        _age_check(
            "quarantine",
            held.oldest_age,
            thresholds.quarantine_max_age,
            f"{held.count} quarantined",
            "the oldest quarantined message arrived",
        )
    )
    for worker in workers:
        silent = timedelta(seconds=worker.silent_for(now))
        if silent > thresholds.worker_max_silence:
            checks.append(
                Check(
                    f"worker {worker.worker_id}",
                    False,
                    f"silent for {human_age(silent)} while {worker.status} (died without stopping?)",  # noqa: E501
                )
            )
        elif worker.status != "running":
            problem = worker.details.get("unavailable") or ""
            checks.append(
                Check(
                    f"worker {worker.worker_id}",
                    False,
                    f"{worker.status}{': ' + str(problem) if problem else ''}",
                )
            )
        else:
            checks.append(Check(f"worker {worker.worker_id}", True, "running"))
    return checks


def _skipped(*names: str) -> list[Check]:
    return [Check(name, False, "not checked: the database does not answer") for name in names]


def _age_check(
    name: str, age: timedelta | None, limit: timedelta, summary: str, oldest: str
) -> Check:
    if age is None or age <= limit:
        return Check(name, True, summary)
    return Check(
        name, False, f"{summary}; {oldest} {human_age(age)} ago (threshold {human_age(limit)})"
    )


def check_health(
    *,
    db_url: str | None = None,
    thresholds: Thresholds = Thresholds(),
    timeout: float = 5.0,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    sources: Callable[[Settings, float], list[Check]] = source_checks,
) -> HealthReport:
    """Every check, the database's first; never raises for a part that is down."""
    settings = settings or get_settings()
    checks = database_checks(db_url, thresholds, clock) + sources(settings, timeout)
    return HealthReport(tuple(checks))
