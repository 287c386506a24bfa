"""Real parts for the Airflow tests: a mail server, simulated forces, an Airflow home.

Nothing here is mocked. The mail server is aiosmtpd listening on 127.0.0.1; Airflow is the
installed `airflow` command on a SQLite metadata database in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.conftest import OWN_THRESHOLDS, airflow_env  # noqa: F401 (airflow_env: imported by the tests here)

BIN = Path(sys.executable).parent
FIRST_SNAPSHOT = dt.date(2024, 6, 24)
SNAPSHOT = dt.date(2024, 6, 28)
SCALE = "0.03"
FROM_ADDRESS = "cdi-monitor@example.police.uk"

# A force's own thresholds, so that the `outstanding` profile passes its gates on a force this small.
PASSING_THRESHOLDS = OWN_THRESHOLDS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- the mail server


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The body as a reader sees it (the text inside the HTML part's <pre>, unescaped)."""
        body = self.message.get_body(preferencelist=("plain", "html"))
        content = body.get_content()
        if body.get_content_subtype() == "html":
            content = html.unescape(content.split("<pre", 1)[1].split(">", 1)[1].rsplit("</pre>", 1)[0])
        return content

    def attachment(self, filename: str) -> bytes:
        for part in self.message.iter_attachments():
            if part.get_filename() == filename:
                return part.get_payload(decode=True)
        raise AssertionError(f"no attachment {filename!r}; have {[p.get_filename() for p in self.message.iter_attachments()]}")


class MailServer:
    """aiosmtpd on 127.0.0.1 (a free port), keeping every message it is handed."""

    def __init__(self):
        self.port = free_port()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> MailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def airflow_connection_uri(self) -> str:
        # SSL and STARTTLS are on by default in the SMTP provider; this test server speaks plain SMTP.
        return (f"smtp://127.0.0.1:{self.port}?disable_ssl=true&disable_tls=true"
                f"&from_email={FROM_ADDRESS.replace('@', '%40')}&retry_limit=0&timeout=10")

    def messages_to(self, address: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if address in item.recipients]


# --------------------------------------------------------------------------- forces and Airflow


def cdi(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cdi"), *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def simulate(landing: Path, force: str, profile: str, seed: int) -> Path:
    result = cdi("simulate", "--force", force, "--profile", profile, "--from", FIRST_SNAPSHOT.isoformat(),
                 "--to", SNAPSHOT.isoformat(), "--seed", str(seed), "--scale", SCALE, "--landing", str(landing))
    assert result.returncode == 0, result.stderr
    return landing


def migrated_airflow_home(home: Path) -> Path:
    result = subprocess.run([str(BIN / "airflow"), "db", "migrate"], capture_output=True, text=True,
                            env=airflow_env(home), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return home


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    return migrated_airflow_home(tmp_path_factory.mktemp("airflow-home"))


SECRET_WEBHOOK_PATH = "/services/T000/B000/s3cr3t-webhook-token"


class Webhook:
    """An incoming webhook on localhost that records what it is sent and answers ``status``."""

    def __init__(self, status: int = 200):
        self.posts: list[dict] = []
        self.status = status
        received, answer = self.posts, self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers["Content-Length"])
                received.append({"path": self.path, "content_type": self.headers["Content-Type"],
                                 "json": json.loads(self.rfile.read(length))})
                self.send_response(answer.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{SECRET_WEBHOOK_PATH}"

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
