"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

No websockets, no Playwright, no downloaded browser: the system Chromium is started with the
debugging pipe on file descriptors 3 (commands in) and 4 (responses and events out), messages
separated by NUL bytes. One page target is attached in flat session mode.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from pathlib import Path

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
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)
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
