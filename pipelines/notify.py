"""The two alerts: the registrar's morning message, and the data engineers' failure message.

The registrar's message goes out every run (the subject says BREACHED when a gate failed): the
verdict, the rates with their intervals against the thresholds by group, the change since the
previous run, the top of the worklist, the worklist attached as CSV, and where the report is.
The failure message goes to the data-engineering list when a stage of a force's run fails for a
reason that is not a verdict on the data (a missing or late export, a critical data-quality
failure, a crash): which task, which snapshot, why, and what to do next.

Each alert is built once, as an `Alert`, and then delivered by a transport: an Airflow SMTP
connection (`pipelines.airflow_support.AirflowSmtpTransport`), an SMTP server named by
``$CDI_SMTP_URL`` (`SmtpTarget`, for the command line), or, with neither, an ``.eml`` file in the
lake's outbox that any mail client opens. A breach is also posted to a Teams or Slack incoming
webhook when one is configured (`post_webhook`): the verdict in a few lines and where the report
is; a webhook that fails is logged, never a reason to lose the email. References only: the lake
holds no names, phone numbers or addresses, so no alert can carry one.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import html
import json
import logging
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlparse

from pipelines import history, lake, outputs
from pipelines.settings import ConfigurationError, Settings
from pipelines.verdict import Verdict, change_in_points, load_verdict, percent, verdict_text

log = logging.getLogger(__name__)

SMTP_URL_ENV = "CDI_SMTP_URL"
WEBHOOK_URL_ENV = "CDI_WEBHOOK_URL"
WEBHOOK_TIMEOUT_SECONDS = 10
WEBHOOK_MAX_LINES = 25  # a chat message, not the email: the verdict, breaches, where the report is
TOP_OF_WORKLIST = 10
SMTP_TIMEOUT_SECONDS = 30
# Python folds a header longer than 78 characters badly (right after "Subject:"); SMTP allows 998.
ONE_LINE_HEADERS = email.policy.default.clone(max_line_length=998)
# The cause of a failure is quoted from the error; a traceback or a huge message is cut here.
MAX_DETAIL_CHARACTERS = 1500


@dataclass(frozen=True)
class Alert:
    """One message, independent of how it travels."""

    kind: str  # "registrar" or "failure_<task>": names the outbox file
    force: str
    snapshot_date: dt.date
    subject: str
    recipients: tuple[str, ...]
    sender: str
    body: str  # plain text, laid out in fixed-width columns
    attachments: tuple[Path, ...] = field(default=())

    def html(self) -> str:
        """The body for transports that send HTML (Airflow's SmtpHook): the same text, preformatted."""
        return (
            "<html><body><pre style=\"font-family:Consolas,Menlo,monospace;font-size:13px\">"
            f"{html.escape(self.body)}</pre></body></html>"
        )

    def to_email(self) -> EmailMessage:
        message = EmailMessage(policy=ONE_LINE_HEADERS)
        message["Subject"] = self.subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
        message["Message-ID"] = make_msgid(domain="cdi-monitor")
        message.set_content(self.body)
        for path in self.attachments:
            if path.exists():
                message.add_attachment(path.read_bytes(), maintype="text", subtype="csv", filename=path.name)
        return message


class Transport(Protocol):
    def send(self, alert: Alert) -> str:
        """Send the alert; return where it went, in words (no secrets)."""


# --------------------------------------------------------------------------- SMTP from a URL


@dataclass(frozen=True)
class SmtpTarget:
    """An SMTP server given as a URL (``$CDI_SMTP_URL``): the command line's transport."""

    host: str
    port: int
    starttls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    from_address: str | None = None

    def __repr__(self) -> str:  # never print the password
        return f"SmtpTarget({self.host}:{self.port}, starttls={self.starttls}, ssl={self.use_ssl})"

    def send(self, alert: Alert) -> str:
        message = alert.to_email()
        send_smtp(message, self)
        return f"smtp://{self.host}:{self.port}"


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
    return write_outbox_file(message, settings.lake_dir, settings.force, snapshot_date, kind)


def write_outbox_file(message: EmailMessage, lake_dir: Path, force: str, snapshot_date: dt.date, kind: str) -> Path:
    path = lake.outbox_dir(lake_dir) / f"{force}_{snapshot_date.isoformat()}_{kind}.eml"
    return lake.write_bytes(bytes(message), path)


def deliver(alert: Alert, transport: Transport | None, lake_dir: Path, *, outbox_on_error: bool = False) -> dict:
    """Send through ``transport``, or write to the outbox when there is none.

    ``outbox_on_error``: when sending fails, keep the message in the outbox and say so in the log
    instead of raising. For the failure alert, which must not be lost because the mail server is
    what failed.
    """
    if transport is not None:
        try:
            sent_via = transport.send(alert)
        except Exception as error:
            if not outbox_on_error:
                raise
            log.error("could not send the %s alert (%s: %s); writing it to the outbox", alert.kind,
                      type(error).__name__, error)
        else:
            log.info("%s alert for %s %s sent via %s", alert.kind, alert.force, alert.snapshot_date, sent_via)
            return {"sent_via": sent_via, "subject": alert.subject, "outbox_file": None}
    path = write_outbox_file(alert.to_email(), lake_dir, alert.force, alert.snapshot_date, alert.kind)
    log.info("%s alert for %s %s written to %s", alert.kind, alert.force, alert.snapshot_date, path)
    return {"sent_via": "outbox", "subject": alert.subject, "outbox_file": str(path)}


# --------------------------------------------------------------------------- the registrar's message


@dataclass(frozen=True)
class PreviousRun:
    snapshot_date: dt.date
    rates: dict[tuple[str, str], float | None]  # (dimension, group) -> recording rate
    worklist_items: int
    status: str  # PASSED / BREACHED / NOT EVALUATED


def previous_run(settings: Settings, snapshot_date: dt.date) -> PreviousRun | None:
    """The latest earlier snapshot of this force whose marts are in the lake, if any: the one the
    report's "since the previous snapshot" compares with, its rates read the same way
    (`history.previous_snapshot`, `history.gate_rates_by_snapshot`), so email and report agree."""
    previous = history.previous_snapshot(settings.lake_dir, settings.force, snapshot_date)
    if previous is None:
        return None
    rates = history.gate_rates_by_snapshot(settings.lake_dir, settings.force, previous, previous)
    worklist_file = lake.mart_path(settings.lake_dir, "worklist", settings.force, previous)
    gate_file = lake.reports_dir(settings.lake_dir, settings.force, previous) / "gate.json"
    gate = lake.read_json(gate_file) if gate_file.exists() else None
    return PreviousRun(
        snapshot_date=previous,
        rates={(row["dimension"], row["dimension_value"]): row["recording_rate"] for row in rates},
        worklist_items=lake.parquet_row_count(worklist_file) if worklist_file.exists() else 0,
        status="NOT EVALUATED" if gate is None else ("PASSED" if gate.get("passed") else "BREACHED"),
    )


def _points(now: float | None, before: float | None) -> str:
    change = change_in_points(now, before)
    if change is None:
        return "n/a"
    return "no change" if change == 0 else f"{change:+.1f} points"


def _warning_in_brief(warning: dict) -> str:
    """A warning for the subject line: a passed run's subject must not hide it."""
    if warning.get("check") == "rape_unrecorded":
        return f"{warning.get('count')} rape report(s) not resolved"
    # a gate check a force made a warning: its group, as the body's first lines give the figures
    where = " ".join(str(warning[key]) for key in ("dimension", "dimension_value") if warning.get(key))
    return f"{warning.get('check')} {where}".strip()


def change_since_previous_run(verdict: Verdict, previous: PreviousRun | None) -> list[str]:
    if previous is None:
        return ["Change since the previous run: none to compare with (this is the force's first snapshot in the lake)."]
    lines = [f"Change since the previous run (snapshot {previous.snapshot_date.isoformat()}, {previous.status}):"]
    for line in verdict.rates:
        label = "overall" if line.dimension == "overall" else f"{line.dimension} {line.group}"
        before = previous.rates.get((line.dimension, line.group))
        lines.append(f"  {label:<48} {percent(line.recording_rate):>6} (was {percent(before)}, "
                     f"{_points(line.recording_rate, before)})")
    change = verdict.worklist_items - previous.worklist_items
    lines.append(f"  {'worklist items':<48} {verdict.worklist_items:>6} (was {previous.worklist_items}, {change:+d})")
    return lines


def build_registrar_alert(settings: Settings, snapshot_date: dt.date, verdict: Verdict | None = None) -> Alert:
    verdict = verdict or load_verdict(settings, snapshot_date)
    worklist = outputs.read_mart(settings.lake_dir, "worklist", settings.force, snapshot_date)
    top = worklist.slice(0, TOP_OF_WORKLIST).to_pylist()
    overall = verdict.overall
    headline = (
        f"recording rate {overall.recording_rate * 100:.1f}%"
        if overall is not None and overall.recording_rate is not None
        else "no matured reports"
    )
    summary = verdict_text(verdict)
    body = [
        summary,
        "",
        *change_since_previous_run(verdict, previous_run(settings, snapshot_date)),
        "",
        f"Top {len(top)} of {worklist.num_rows} worklist items (references only):",
    ]
    for item in top:
        body.append(
            f"  P{item['priority']} {item['candidate_ref']:<22} {item['route']:<9} {item['crime_group'] or '':<30} "
            f"{item['reason_codes']}"
        )
    body += ["", "The full worklist is attached as worklist.csv."]
    if str(verdict.report_path) not in summary:
        body.append(f"Report: {verdict.report_path}")
    return Alert(
        kind="registrar",
        force=settings.force,
        snapshot_date=snapshot_date,
        subject=f"[cdi-monitor] {settings.force} {snapshot_date.isoformat()}: {verdict.status}, {headline}"
                + "".join(f"; WARNING {_warning_in_brief(warning)}" for warning in verdict.warnings),
        recipients=settings.alerts.registrar_recipients,
        sender=settings.alerts.from_address,
        body="\n".join(body),
        attachments=(verdict.worklist_path,),
    )


def build_registrar_message(settings: Settings, snapshot_date: dt.date) -> EmailMessage:
    return build_registrar_alert(settings, snapshot_date).to_email()


def notify_registrar(settings: Settings, snapshot_date: dt.date, smtp: Transport | None = None,
                     webhook_url: str | None = None) -> dict:
    """Send the registrar's message (through ``smtp``, else ``$CDI_SMTP_URL``, else the outbox);
    on a breach, post it to the webhook too (``webhook_url``, else ``$CDI_WEBHOOK_URL``, if any)."""
    verdict = load_verdict(settings, snapshot_date)
    alert = build_registrar_alert(settings, snapshot_date, verdict)
    outcome = deliver(alert, smtp or smtp_target_from_environment(), settings.lake_dir)
    webhook_url = webhook_url or os.environ.get(WEBHOOK_URL_ENV) or None
    if webhook_url and verdict.status == "BREACHED":
        outcome["webhook"] = post_webhook(alert, webhook_url)
    return outcome


# --------------------------------------------------------------------------- a chat webhook


def webhook_text(alert: Alert) -> str:
    """The alert as a chat message: the subject, then the first lines of the body (the verdict,
    rates against thresholds, breaches, where the report is)."""
    lines = alert.body.splitlines()
    shown = lines[:WEBHOOK_MAX_LINES]
    if len(lines) > WEBHOOK_MAX_LINES:
        shown.append(f"... the full message went to {', '.join(alert.recipients)}")
    return "\n".join([f"*{alert.subject}*", "```", *shown, "```"])


def post_webhook(alert: Alert, url: str) -> str:
    """POST ``{"text": ...}`` (what Slack and Teams incoming webhooks both take); return what
    happened in words. Never raises: the email has gone (or is in the outbox) whatever the chat
    service says, and the failure is in the log for the data engineers."""
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        log.error("the webhook URL is not an http(s) URL; nothing posted")
        return "not posted: the webhook URL is not an http(s) URL"
    body = json.dumps({"text": webhook_text(alert)}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "cdi-monitor"})
    where = f"{parsed.scheme}://{parsed.netloc}"  # the path of a webhook URL is its secret: never logged
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        log.error("the webhook at %s refused the %s alert: HTTP %s", where, alert.kind, error.code)
        return f"failed: HTTP {error.code} from {where}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        log.error("could not post the %s alert to the webhook at %s: %s", alert.kind, where, reason)
        return f"failed: {reason} ({where})"
    log.info("%s alert for %s %s posted to the webhook at %s", alert.kind, alert.force, alert.snapshot_date, where)
    return f"posted to {where} (HTTP {status})"


# --------------------------------------------------------------------------- the data engineers' message

# Why a stage failed, in the words the on-call data engineer needs, by the error's type name (the
# callback must not import the stages, and a name survives Airflow wrapping the error).
CAUSES = {
    "DataQualityError": "critical data-quality failure",
    "ConfigurationError": "configuration error",
    "AirflowTaskTimeout": "timed out (execution_timeout)",
    "AirflowTaskTerminated": "terminated",
}


def error_chain(error: BaseException | None):
    """The error, then what caused it, and so on (Airflow re-raises ours as its own)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def failure_cause(error: BaseException | str | None) -> tuple[str, str]:
    """(cause in a few words, the error's own message) for a failed stage."""
    if error is None:
        return "failed without an error (killed, or marked failed by hand)", ""
    if isinstance(error, str):
        return "crash", error[:MAX_DETAIL_CHARACTERS]
    errors = list(error_chain(error))
    detail = next((str(e) for e in errors if str(e)), type(error).__name__)[:MAX_DETAIL_CHARACTERS]
    for candidate in errors:
        name = type(candidate).__name__
        if name == "ExportFormatError":
            missing = "export is missing" in str(candidate)
            return ("missing or late export" if missing else "unreadable export"), detail
        if name in CAUSES:
            return CAUSES[name], detail
    return f"crash ({type(errors[-1]).__name__})", detail


NEXT_STEPS = {
    "missing or late export": "Check that the export arrived in the landing folder, then clear the failed task to rerun it.",
    "unreadable export": "Ask the source system's owner for a corrected export (the file, line and column are above), "
                         "then clear the failed task.",
    "critical data-quality failure": "See validation_raw.json in the reports folder and the quarantine partition; "
                                     "no verdict was drawn from this snapshot.",
}


@dataclass(frozen=True)
class FailedTask:
    dag_id: str
    task_id: str
    run_id: str
    force: str
    snapshot_date: dt.date | None
    try_number: int | None = None
    max_tries: int | None = None
    log_url: str | None = None


def build_failure_alert(failed: FailedTask, error: BaseException | str | None, *, recipients: tuple[str, ...],
                        sender: str) -> Alert:
    cause, detail = failure_cause(error)
    snapshot = failed.snapshot_date.isoformat() if failed.snapshot_date else "unknown"
    attempts = f" (attempt {failed.try_number} of {failed.max_tries + 1})" if failed.try_number and failed.max_tries is not None else ""
    body = [
        f"cdi-monitor pipeline failure: {failed.force}, snapshot {snapshot}",
        f"  Task:      {failed.task_id}{attempts}",
        f"  Cause:     {cause}",
        f"  Detail:    {detail}" if detail else "  Detail:    (none)",
        f"  Pipeline:  {failed.dag_id}, run {failed.run_id}",
    ]
    if failed.log_url:
        body.append(f"  Log:       {failed.log_url}")
    body += [
        "",
        f"No verdict for {failed.force} on {snapshot} until this is fixed; other forces' results are unaffected.",
        NEXT_STEPS.get(cause, "See the task's log, fix the cause, then clear the failed task to rerun it."),
    ]
    return Alert(
        kind=f"failure_{failed.task_id}",
        force=failed.force,
        snapshot_date=failed.snapshot_date or dt.date.today(),
        subject=f"[cdi-monitor] FAILED {failed.force} {snapshot}: {failed.task_id}: {cause}",
        recipients=recipients,
        sender=sender,
        body="\n".join(body),
    )
