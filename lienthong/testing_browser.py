"""Real-browser test support: a minimal Chrome DevTools Protocol client for the system Chromium,
a live uvicorn server, the dev-IdP login and screenshot/text checks.

The CDP client uses ``--remote-debugging-pipe``: no websockets, no Playwright, no downloaded browser.
Chromium is started with the debugging pipe on file descriptors 3 (commands in) and 4 (responses
and events out), messages separated by NUL bytes. One page target is attached in flat session mode;
JavaScript exceptions and console/log errors are collected (:meth:`Browser.take_problems`).

Without Chromium (Debian package ``chromium``, or ``LIENTHONG_CHROMIUM``) :func:`require_chromium`
fails the test in CI (``CI=true``) and skips it elsewhere.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CHROMIUM = os.environ.get("LIENTHONG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REPO_ROOT = Path(__file__).resolve().parents[1]


def require_chromium() -> str:
    """The Chromium executable; a missing one fails the test in CI and skips it elsewhere."""
    import pytest

    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = (f"Chromium not found at {CHROMIUM}: install the Debian package 'chromium' "
               "(apt-get install -y chromium) or set LIENTHONG_CHROMIUM")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--no-default-browser-check",
                  "--lang=vi-VN", "--remote-debugging-pipe")


class CdpError(RuntimeError):
    pass


class Browser:
    def __init__(self, executable: str, user_data_dir: Path, width: int = 1280, height: int = 900):
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        script = f'exec 3<&{cmd_r} 4>&{res_w} {cmd_r}<&- {res_w}>&-; exec "$@"'
        args = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}",
                f"--window-size={width},{height}", "about:blank"]
        self.proc = subprocess.Popen(["bash", "-c", script, "chromium", *args], pass_fds=(cmd_r, res_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(cmd_r)
        os.close(res_w)
        self._next = 0
        self._lock = threading.Lock()
        self._responses: dict[int, dict] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._problems: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)
        self.call("Log.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._res_r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._responses[msg["id"]] = msg
                        self._cond.notify_all()
                elif msg.get("method"):
                    self._on_event(msg["method"], msg.get("params", {}))

    def _on_event(self, method: str, params: dict) -> None:
        """Collect JavaScript exceptions, console errors and browser log errors (CSP, 404s, ...)."""
        text = None
        if method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            text = "exception: " + ((d.get("exception") or {}).get("description") or d.get("text") or str(d))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            text = f"console.{params['type']}: {args}"
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            e = params["entry"]
            text = f"log ({e.get('source')}): {e.get('text')} {e.get('url') or ''}".strip()
        if text:
            with self._cond:
                self._problems.append(text)

    def take_problems(self) -> list[str]:
        """Console errors and JavaScript exceptions seen since the last call (and forget them)."""
        with self._cond:
            out, self._problems = self._problems, []
        return out

    def call(self, method: str, session: bool = False, timeout: float = 30, **params) -> dict:
        with self._lock:
            self._next += 1
            mid = self._next
        msg = {"id": mid, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self._responses:
                if self._closed:
                    raise CdpError(f"chromium exited: {self.proc.stderr.read().decode(errors='replace')[-2000:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CdpError(f"timeout waiting for {method}")
                self._cond.wait(left)
            resp = self._responses.pop(mid)
        if "error" in resp:
            raise CdpError(f"{method}: {resp['error']}")
        return resp.get("result", {})

    # --- page helpers ---------------------------------------------------------------------------

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError(f"script error: {result['exceptionDetails'].get('text')} in {expression[:80]}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20, what: str = "") -> object:
        """Poll ``expression`` until truthy (navigation in between is tolerated)."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
                if value:
                    return value
            except CdpError as exc:  # execution context destroyed during navigation
                last_error = exc
            time.sleep(0.1)
        state = None
        try:
            state = self.evaluate("location.href + ' | ' + document.title")
        except CdpError:
            pass
        raise CdpError(f"timed out waiting for {what or expression} (page: {state}; last error: {last_error})")

    def navigate(self, url: str) -> None:
        result = self.call("Page.navigate", session=True, url=url)
        if result.get("errorText"):
            raise CdpError(f"navigation to {url} failed: {result['errorText']}")

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.call("Page.captureScreenshot", session=True, format="png")["data"])
        path.write_bytes(data)
        return data

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (CdpError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._cmd_w, self._res_r):
            try:
                os.close(fd)
            except OSError:
                pass


# --- server -------------------------------------------------------------------------------------


@contextlib.contextmanager
def live_uvicorn(app_factory: str, port: int, log_path: Path, timeout: float = 30) -> Iterator[str]:
    """Run ``uvicorn --factory app_factory`` on 127.0.0.1:``port`` with this process's environment
    (database URL, secret, base URL must be set before); yields the base URL once /healthz answers.
    On exit the server gets 1 s to close open connections (e.g. event streams) before it stops."""
    base = f"http://127.0.0.1:{port}"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", app_factory, "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "1"],
                            env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- page checks ----------------------------------------------------------------------------------


def artifact(tmp_path: Path, name: str) -> Path:
    """Screenshots go to the test's tmp dir, or to LIENTHONG_ARTIFACTS if set (kept, e.g. CI upload)."""
    target = os.environ.get("LIENTHONG_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        return Path(target) / name
    return tmp_path / name


def check_screenshot(data: bytes, width: int, height: int, header: bool = True) -> None:
    """A PNG of the viewport size that is not blank; with ``header``, base.html's red bar is on top."""
    from PIL import Image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert img.size == (width, height)
    small = img.resize((320, 225))
    colours = small.getcolors(maxcolors=320 * 225)
    non_white = sum(n for n, c in colours if sum(c) < 720) / (320 * 225)
    assert non_white > 0.03, f"screenshot looks blank ({non_white:.1%} non-white)"
    assert len(colours) > 40, "screenshot has almost no distinct colours"
    if not header:
        return
    # the red header bar of base.html (CSS loaded): top-left area is #b71c1c
    r, g, b = img.getpixel((5, 5))
    assert r > 150 and g < 60 and b < 60, f"header colour not found: {(r, g, b)}"


ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def date_problems(text: str) -> list[str]:
    """Dates in visible text that break the dd/mm/yyyy rule: ISO ``yyyy-mm-dd``, and slash dates
    that can only be mm/dd/yyyy (second number above 12) or are impossible."""
    out = [f"ISO date {m.group(0)!r}" for m in ISO_DATE.finditer(text)]
    for m in SLASH_DATE.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        if month > 12 or day > 31 or day == 0 or month == 0:
            out.append(f"not dd/mm/yyyy: {m.group(0)!r}")
    return out


def login(browser: Browser, base: str, path: str, personal_id: str, acr: str = "2") -> None:
    """Open a protected page and log in through the dev identity provider's form, as a user would."""
    browser.navigate(base + path)
    browser.wait_for("document.readyState === 'complete' && !!document.getElementById('personal_id')",
                     what="the identity provider's login form")
    browser.evaluate(f"document.getElementById('personal_id').value = '{personal_id}';"
                     f"document.querySelector('input[name=acr][value=\"{acr}\"]').checked = true;"
                     "document.querySelector('button[value=login]').click(); true")
    browser.wait_for(f"location.pathname === '{path}' && document.readyState === 'complete'",
                     what=f"return to {path} after login")
