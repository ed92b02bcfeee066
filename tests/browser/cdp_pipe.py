"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no websocket).

Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4.
That needs nothing beyond the standard library, opens no port, and lets a test see every
console message, uncaught exception and network request of the page it loads.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path  # noqa: TC003 - used at run time by callers' annotations
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
)
"""Headless, quiet, and nothing that reaches out to the network by itself."""
TIMEOUT = 60.0
"""An upper bound for any one reply; chromium answers in well under a second here."""


def find_chromium() -> str | None:
    """The chromium binary: $INTELSHARE_CHROMIUM, else Debian's ``chromium`` on PATH."""
    named = os.environ.get("INTELSHARE_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageLog:
    """What a page said while it was open."""

    errors: list[str] = field(default_factory=list)
    """Uncaught exceptions, console.error/assert calls and error-level log entries."""
    requests: list[str] = field(default_factory=list)
    """URLs the page requested."""


class Browser:
    """One headless chromium process driven over the DevTools pipe."""

    def __init__(self, binary: str) -> None:
        """Start chromium with a throw-away profile."""
        self._profile = tempfile.mkdtemp(prefix="intelshare-chromium-")
        low_in, self._write = os.pipe()
        self._read, low_out = os.pipe()
        # Move the child's ends above fd 4 so the redirections below cannot clobber them.
        to_child = fcntl.fcntl(low_in, fcntl.F_DUPFD, 10)
        from_child = fcntl.fcntl(low_out, fcntl.F_DUPFD, 10)
        os.close(low_in)
        os.close(low_out)
        # bash (not dash: it takes fds above 9) puts the pipe ends on fds 3 and 4.
        script = f'exec "$0" "$@" 3<&{to_child} 4>&{from_child} {to_child}<&- {from_child}>&-'
        self.process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                script,
                binary,
                *CHROMIUM_FLAGS,
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            pass_fds=(to_child, from_child),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Return the first event named ``method`` (already received, or the next ones)."""
        while True:
            for index, event in enumerate(self._events):
                if event.get("method") == method:
                    return self._events.pop(index)
            self._events.append(self._receive())

    def drain(self) -> list[dict[str, Any]]:
        """Every event received so far and not yet consumed."""
        events, self._events = self._events, []
        return events

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._read], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("chromium did not answer over the DevTools pipe")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                stderr = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(f"chromium closed the DevTools pipe: {stderr[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def close(self) -> None:
        """Ask chromium to quit, then make sure it has."""
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)


class Page:
    """One tab, attached in flat mode, with console, log and network recorded."""

    def __init__(self, browser: Browser, *, width: int = 1400, height: int = 1000) -> None:
        """Open a blank tab of the given viewport size."""
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.log = PageLog()

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command for this tab."""
        return self.browser.send(method, params, session=self.session)

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self.send("Page.navigate", {"url": url})
        self.browser.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its value (JSON-able)."""
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"page raised: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path, selector: str | None = None) -> None:
        """Save a PNG of the whole page (beyond the viewport), or of one element's box."""
        if selector is None:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            width = int(self.evaluate("document.documentElement.scrollWidth"))
            clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        else:
            box = self.evaluate(
                f"(() => {{ const r = document.querySelector({selector!r})"
                ".getBoundingClientRect(); return {x: r.left + scrollX, y: r.top + scrollY, "
                "width: r.width, height: r.height}; })()"
            )
            clip = {**box, "scale": 1}
        data = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )["data"]
        path.write_bytes(base64.b64decode(data))

    def collect(self) -> PageLog:
        """Sort the events seen so far into errors and requests."""
        for event in self.browser.drain():
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text")
                self.log.errors.append(f"uncaught: {text}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                args = [str(arg.get("value", arg.get("description"))) for arg in params["args"]]
                self.log.errors.append(f"console.{params['type']}: {' '.join(args)}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                self.log.errors.append(f"log: {params['entry'].get('text')}")
            elif method == "Network.requestWillBeSent":
                self.log.requests.append(params["request"]["url"])
        return self.log
