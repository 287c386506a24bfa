"""The registrar's morning message: the verdict, the top of the worklist, the worklist attached.

Sent every run (the registrar hears every morning; the subject says BREACHED when a gate failed).
With an SMTP server configured it is sent through it; without one it is written as an ``.eml``
file to the lake's outbox, where any mail client opens it. References only: the worklist and the
verdict hold no names, phone numbers or addresses.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from pipelines import lake, outputs
from pipelines.settings import ConfigurationError, Settings
from pipelines.verdict import load_verdict, verdict_text

log = logging.getLogger(__name__)

SMTP_URL_ENV = "CDI_SMTP_URL"
TOP_OF_WORKLIST = 10
SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    starttls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    from_address: str | None = None

    def __repr__(self) -> str:  # never print the password
        return f"SmtpTarget({self.host}:{self.port}, starttls={self.starttls}, ssl={self.use_ssl})"


def smtp_target_from_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:port?starttls=true&from=a@b`` (``smtps://`` for implicit TLS)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise ConfigurationError(f"{SMTP_URL_ENV} must look like smtp://host:port, got scheme {parsed.scheme!r}")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return SmtpTarget(
        host=parsed.hostname,
        port=parsed.port or (465 if parsed.scheme == "smtps" else 25),
        starttls=query.get("starttls", "false").lower() == "true",
        use_ssl=parsed.scheme == "smtps",
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        from_address=query.get("from"),
    )


def smtp_target_from_environment() -> SmtpTarget | None:
    url = os.environ.get(SMTP_URL_ENV)
    return smtp_target_from_url(url) if url else None


def build_registrar_message(settings: Settings, snapshot_date: dt.date) -> EmailMessage:
    verdict = load_verdict(settings, snapshot_date)
    worklist = outputs.read_mart(settings.lake_dir, "worklist", settings.force, snapshot_date)
    top = worklist.slice(0, TOP_OF_WORKLIST).to_pylist()
    overall = verdict.overall
    headline = (
        f"recording rate {overall.recording_rate * 100:.1f}%"
        if overall is not None and overall.recording_rate is not None
        else "no matured reports"
    )
    message = EmailMessage()
    message["Subject"] = f"[cdi-monitor] {settings.force} {snapshot_date.isoformat()}: {verdict.status}, {headline}"
    message["From"] = settings.alerts.from_address
    message["To"] = ", ".join(settings.alerts.registrar_recipients)
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(domain="cdi-monitor")
    body = [verdict_text(verdict), "", f"Top {len(top)} of {worklist.num_rows} worklist items (references only):"]
    for item in top:
        body.append(
            f"  P{item['priority']} {item['candidate_ref']:<22} {item['route']:<9} {item['crime_group'] or '':<30} "
            f"{item['reason_codes']}"
        )
    body += ["", "The full worklist is attached as worklist.csv.", f"Report: {verdict.report_path}"]
    message.set_content("\n".join(body))
    worklist_file = verdict.worklist_path
    if worklist_file.exists():
        message.add_attachment(worklist_file.read_bytes(), maintype="text", subtype="csv", filename="worklist.csv")
    return message


def send_smtp(message: EmailMessage, target: SmtpTarget) -> None:
    if target.from_address:
        message.replace_header("From", target.from_address)
    client_class = smtplib.SMTP_SSL if target.use_ssl else smtplib.SMTP
    with client_class(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS) as client:
        if target.starttls:
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message)


def write_outbox(message: EmailMessage, settings: Settings, snapshot_date: dt.date, kind: str) -> Path:
    path = lake.outbox_dir(settings.lake_dir) / f"{settings.force}_{snapshot_date.isoformat()}_{kind}.eml"
    return lake.write_bytes(bytes(message), path)


def notify_registrar(settings: Settings, snapshot_date: dt.date, smtp: SmtpTarget | None = None) -> dict:
    """Send (or write to the outbox) the registrar's message; return where it went."""
    message = build_registrar_message(settings, snapshot_date)
    smtp = smtp or smtp_target_from_environment()
    if smtp is not None:
        send_smtp(message, smtp)
        log.info("registrar alert for %s %s sent via %r", settings.force, snapshot_date, smtp)
        return {"sent_via": f"smtp://{smtp.host}:{smtp.port}", "subject": message["Subject"], "outbox_file": None}
    path = write_outbox(message, settings, snapshot_date, "registrar")
    log.info("registrar alert for %s %s written to %s", settings.force, snapshot_date, path)
    return {"sent_via": "outbox", "subject": message["Subject"], "outbox_file": str(path)}
