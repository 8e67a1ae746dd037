"""``backoffice worker``: one long-running process for every enabled mail source and the
outbox sender, so a deployment runs one command per machine instead of four."""

from __future__ import annotations

from backoffice.cli.common import DbOption
from backoffice.cli.running import LogFormatOption, supervise


def worker(log_format: LogFormatOption = None, db: DbOption = None) -> None:
    """Run the outbox sender (unless BACKOFFICE_WORKER_OUTBOX=false) and each mail source
    whose settings are given: the SMTP receiver (BACKOFFICE_SMTPD_PORT), an IMAP folder
    (BACKOFFICE_IMAP_HOST, _USER, _PASSWORD...) and a Maildir (BACKOFFICE_MAILDIR_WATCH).
    Database, SMTP and IMAP outages are retried with back-off. SIGTERM or Ctrl-C: stop taking
    work, finish what is in flight (BACKOFFICE_SHUTDOWN_GRACE_SECONDS at most), put claimed
    mail back in the queue and exit 0."""
    from core.workers.services import services_from_settings

    supervise(services_from_settings, db=db, log_format=log_format, process_kind="worker")
