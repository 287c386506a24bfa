"""Headless Chromium driven over the DevTools protocol through a pipe: no driver, no extra package.

``--remote-debugging-pipe`` makes Chromium read protocol commands from file descriptor 3 and write
replies and events to descriptor 4, each message JSON ended by a NUL byte (what Puppeteer uses).
`Chromium.open` loads one page, waits for its load event and records every console message,
JavaScript exception, log entry (CSP violations land there) and network request on the way.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe",
)
TIMEOUT_SECONDS = 60


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get if missing; raises (the test fails) if it cannot be."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise RuntimeError("chromium is missing and apt-get is not available to install it")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-dejavu-core"]):
        result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=1200)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is missing")
    return CHROMIUM


@dataclass
class PageVisit:
    url: str
    console: list[dict] = field(default_factory=list)  # Runtime.consoleAPICalled
    exceptions: list[dict] = field(default_factory=list)  # Runtime.exceptionThrown
    log_entries: list[dict] = field(default_factory=list)  # Log.entryAdded
    requests: list[str] = field(default_factory=list)  # Network.requestWillBeSent URLs
    failed_requests: list[dict] = field(default_factory=list)  # Network.loadingFailed

    @property
    def errors(self) -> list[str]:
        found = [f"console.{m['type']}: {m}" for m in self.console if m.get("type") in ("error", "assert")]
        found += [f"exception: {e}" for e in self.exceptions]
        found += [f"log {e.get('entry', {}).get('level')}: {e.get('entry', {}).get('text')}" for e in self.log_entries
                  if e.get("entry", {}).get("level") in ("error", "warning")]
        found += [f"request failed: {f}" for f in self.failed_requests]
        return found


class Chromium:
    """One headless browser; use as a context manager."""

    def __init__(self, binary: Path, artefacts: Path | None = None):
        self.binary = binary
        self.profile = Path(tempfile.mkdtemp(prefix="cdi-chromium-"))
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.artefacts = artefacts

    def __enter__(self) -> "Chromium":
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire_pipes() -> None:  # in the child: the protocol's fixed descriptors 3 and 4
            # via high numbers first, in case a pipe already sits on 3 or 4
            reading, writing = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self.stderr_file = open(self.profile.parent / f"{self.profile.name}.stderr.log", "w+b")
        self.process = subprocess.Popen(
            [str(self.binary), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr_file,
            # 3 and 4 are kept open in the child after wire_pipes put the pipes there
            preexec_fn=wire_pipes, pass_fds=(3, 4), close_fds=True,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.send("Target.setDiscoverTargets", {"discover": True})
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for descriptor in (self._to_browser, self._from_browser):
            try:
                os.close(descriptor)
            except OSError:
                pass
        self.stderr_file.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    # -- protocol
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no message from chromium in time")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    self.stderr_file.seek(0)
                    raise RuntimeError(f"chromium closed the pipe: {self.stderr_file.read()[-2000:]!r}")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = TIMEOUT_SECONDS) -> dict:
        self.next_id += 1
        command = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, session: str, timeout: float = TIMEOUT_SECONDS) -> dict:
        deadline = time.monotonic() + timeout
        for index, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(index)
        while True:
            message = self._read_message(deadline)
            if message.get("method") == method and message.get("sessionId") == session:
                return message
            self.events.append(message)

    def settle(self, seconds: float) -> None:
        """Collect events for a while (late console messages or requests)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    # -- one page
    def open(self, url: str, *, width: int = 1280, height: int = 900) -> tuple[PageVisit, str]:
        """Load url in a new tab, wait for its load event; return the visit and the tab's session."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            self.send(method, session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        self.settle(1.0)
        visit = PageVisit(url)
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                visit.console.append({"type": params.get("type"), "args": params.get("args")})
            elif method == "Runtime.exceptionThrown":
                visit.exceptions.append(params.get("exceptionDetails", {}))
            elif method == "Log.entryAdded":
                visit.log_entries.append(params)
            elif method == "Network.requestWillBeSent":
                visit.requests.append(params.get("request", {}).get("url", ""))
            elif method == "Network.loadingFailed":
                visit.failed_requests.append(params)
        return visit, session

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path, *, width: int = 1280) -> Path:
        """A PNG of the whole page, resized to its full height first."""
        height = int(self.evaluate(session, "Math.ceil(document.documentElement.scrollHeight)"))
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
