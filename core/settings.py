"""One settings object for every face and service (env prefix ``BACKOFFICE_``)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, read from the environment (``BACKOFFICE_*``) or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="BACKOFFICE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Runtime folder: SQLite file, key file.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default is the embedded SQLite file in data_dir."
    )
    secret_key: SecretStr | None = Field(
        None, description="Key that encrypts TOTP secrets; default is a generated 0600 key file."
    )
    key_file: Path | None = Field(None, description="Where the generated key lives.")

    totp_issuer: str = "Hugging Face"
    recovery_code_count: int = 16
    recovery_codes_low_warning: int = 3

    throttle_free_failures: int = 3
    throttle_max_delay_seconds: int = 300
    throttle_lock_after: int = 10
    throttle_lock_seconds: int = 3600
    recovery_free_failures: int = Field(
        3, description="Wrong recovery codes before each further one must wait."
    )
    recovery_delay_seconds: int = Field(
        30, description="First wait after the free recovery-code failures; doubles."
    )
    recovery_max_delay_seconds: int = Field(
        900, description="Longest wait between recovery-code attempts (they never lock)."
    )
    password_free_failures: int = Field(
        5, description="Wrong passwords per account (or client) before waits begin."
    )
    password_max_delay_seconds: int = Field(
        900, description="Longest wait between password attempts; never a permanent lock."
    )
    password_client_free_failures: int = Field(
        20, description="Wrong passwords from one client, over all accounts, before waits."
    )
    password_failure_window_seconds: int = Field(
        3600, description="A failure older than this (with none since) starts a new count."
    )
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="Comma list of the reverse proxies (addresses or CIDR networks) whose "
        "X-Forwarded-For the staff app and the portal believe, to count wrong passwords per "
        "client. Empty: the address that connects is the client.",
    )

    support_address: str = "website@huggingface.co"
    support_name: str = "Hugging Face Support"
    hub_url: str = "https://huggingface.co"
    sshsig_namespace: str = "2fa-recovery@huggingface.co"
    trusted_authserv_ids: str = Field(
        "",
        description="Comma list of the authserv-ids of our own receivers (the first word of "
        "the Authentication-Results headers they add). Their SPF/DKIM/DMARC results are "
        "shown per message, and a DMARC result short of a pass flags the ticket. Empty: "
        "nothing is trusted, results read 'not checked' and nothing is flagged for it.",
    )
    portal_url: str = Field(
        "http://localhost:8502", description="The account portal's public URL (reset links)."
    )
    password_reset_link_minutes: int = Field(60, description="A password-reset link's life.")
    password_reset_resend_seconds: int = Field(
        60, description="At most one reset email per account in this many seconds."
    )
    reset_cooling_off_hours: float = Field(
        24,
        ge=0,
        description="An approved 2FA reset takes effect this many hours later; the owner can "
        "cancel it meanwhile by an emailed link. 0 resets at approval.",
    )
    two_person_weak_evidence: bool = Field(
        True,
        description="Approving on weak evidence (with an override reason) waits for a second, "
        "different staff member's confirmation; staff and high-value accounts always do.",
    )
    ssh_login_grace_seconds: int = Field(
        30, description="backoffice sshd drops a client that has not authenticated by then."
    )

    inbound_max_bytes: int = Field(
        10 * 1024 * 1024, description="Inbound mail larger than this is quarantined unparsed."
    )
    ack_max_per_sender_per_day: int = Field(
        3, description="Acknowledgement emails sent to one address per 24 hours at most."
    )
    ack_max_per_hour: int = Field(
        1000, description="Acknowledgement emails sent per hour at most, to all addresses."
    )

    staff_session_idle_minutes: int = Field(
        30, description="A staff session ends after this long without activity."
    )
    staff_session_max_hours: int = Field(
        12, description="A staff session ends this long after sign-in, however active."
    )
    portal_session_idle_minutes: int = Field(
        30, description="An account-portal session ends after this long without activity."
    )
    ticket_lease_minutes: int = Field(
        30, description="How long a claim keeps a ticket for one staff member."
    )
    capture_dir: Path | None = Field(
        None, description="Demo mode: the Maildir of the local mail capture, shown to staff."
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(30, description="SMTP connect and command timeout.")
    outbox_batch_size: int = Field(
        20, description="Rows one sender claims at a time (it claims again as its lanes drain)."
    )
    outbox_max_attempts: int = Field(
        8, description="Temporary failures (4xx, no connection) tolerated before a row fails."
    )
    outbox_retry_base_seconds: int = Field(
        60, description="First retry delay; doubles on each further temporary failure."
    )
    outbox_retry_max_seconds: int = Field(6 * 3600, description="Longest retry delay.")
    outbox_lease_seconds: int = Field(
        30,
        ge=2,
        description="Lease on claimed rows, renewed while the sender lives: a killed sender's "
        "rows are taken over by another this long after its last renewal.",
    )
    outbox_lease_renew_seconds: float = Field(
        10,
        gt=0,
        description="How often a sender renews its leases (under half the lease length).",
    )
    outbox_poll_seconds: float = Field(
        2,
        gt=0,
        description="A watching sender looks for due mail this often when the queue is empty.",
    )
    smtp_connections: int = Field(
        8,
        ge=1,
        description="SMTP connections one sender keeps open and uses side by side (a relay "
        "20 ms away takes ~80 ms per message on one connection).",
    )
    smtp_ca_file: Path | None = Field(
        None,
        description="CA bundle that signs the SMTP server's certificate (default: system CAs).",
    )

    shutdown_grace_seconds: float = Field(
        20,
        ge=0,
        description="On SIGTERM/SIGINT a long-running command finishes what is in flight for at "
        "most this long, then releases the rest and exits.",
    )
    heartbeat_seconds: float = Field(
        5, gt=0, description="How often a long-running process records that it is alive."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Long-running commands log as 'text' or 'json'."
    )
    log_level: str = Field("INFO", description="Log level of long-running commands.")
    worker_outbox: bool = Field(
        True, description="`backoffice worker` sends the outbox (the SMTP_* settings)."
    )
    worker_resets: bool = Field(
        True,
        description="`backoffice worker` applies approved 2FA resets once their cooling-off ends.",
    )
    resets_poll_seconds: float = Field(
        30, gt=0, description="How often `backoffice worker` looks for 2FA resets that are due."
    )
    smtpd_port: int | None = Field(
        None, description="`backoffice worker` receives mail over SMTP on this port when set."
    )
    smtpd_host: str = Field("127.0.0.1", description="Address the SMTP receiver listens on.")
    imap_host: str | None = Field(
        None, description="`backoffice worker` polls this IMAP server when set (IMAP_*)."
    )
    imap_port: int | None = Field(None, description="Default 993 with ssl, else 143.")
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_security: Literal["ssl", "starttls", "plain"] = "ssl"
    imap_move_to: str | None = Field(
        None, description="Move handled mail to this folder instead of flagging it \\Seen."
    )
    imap_poll_seconds: float = Field(60, description="How often the IMAP folder is polled.")
    maildir_watch: Path | None = Field(
        None, description="`backoffice worker` ingests this Maildir's new/ when set."
    )
    maildir_poll_seconds: float = Field(5, description="How often the Maildir is looked at.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> object:
        """``10.0.0.0/8, 2001:db8::/32, 192.0.2.7`` as networks; an IPv4-mapped IPv6 network
        as the IPv4 one, since the client addresses it is matched against are read that way."""
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            return value
        networks = []
        for item in value:
            try:
                network = ip_network(str(item).strip())
            except ValueError as exc:
                hint = "expected a comma list like 10.0.0.0/8, 2001:db8::/32"
                raise ValueError(f"{exc} ({hint})") from None
            if isinstance(network, IPv6Network) and network.prefixlen >= 96:
                mapped = network.network_address.ipv4_mapped
                if mapped is not None:
                    network = IPv4Network((mapped, network.prefixlen - 96))
            networks.append(network)
        return networks

    @model_validator(mode="after")
    def _renewal_within_the_lease(self) -> Settings:
        if self.outbox_lease_renew_seconds * 2 > self.outbox_lease_seconds:
            raise ValueError(
                "BACKOFFICE_OUTBOX_LEASE_RENEW_SECONDS must be at most half of "
                "BACKOFFICE_OUTBOX_LEASE_SECONDS (a renewal must land before the lease ends)"
            )
        return self

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'backoffice.db'}"

    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "secret.key"


@lru_cache
def get_settings() -> Settings:
    return Settings()
