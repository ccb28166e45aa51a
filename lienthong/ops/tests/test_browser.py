"""Real headless-browser tests: the system Chromium (Debian package ``chromium``) drives a real
uvicorn server, logs in through the development identity provider's form (OpenID Connect code
flow, as a user would), opens the dashboard and the rollout page, edits a row with HTMX and takes
screenshots that are checked.

Without Chromium the tests fail in CI (``CI=true``) and are skipped elsewhere.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("LIENTHONG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ADMIN_PID = "079090000001"
WIDTH, HEIGHT = 1280, 900


def _require_chromium() -> str:
    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = (f"Chromium not found at {CHROMIUM}: install the Debian package 'chromium' "
               "(apt-get install -y chromium) or set LIENTHONG_CHROMIUM")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(request, monkeypatch, tmp_path):
    """A seeded SQLite database and a real uvicorn server on a free loopback port."""
    from lienthong.testing import clean as _clean, configure

    from lienthong.db import unit_of_work
    from lienthong.identity.models import StaffAccount
    from lienthong.population.models import Citizen
    from lienthong.ops import service
    from lienthong.ops.tests.conftest import ADMIN
    from lienthong.ops.tests.seed import seed

    _require_chromium()
    url = request.getfixturevalue("sqlite_database")
    configure(monkeypatch, tmp_path, url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("LIENTHONG_BASE_URL", base)
    from lienthong.config import reset_settings_cache

    reset_settings_cache()
    with unit_of_work() as s:
        seed(s)
        s.add(Citizen(personal_id=ADMIN_PID, family_name="Trần", middle_name="Thị", given_name="Bình",
                      full_name="Trần Thị Bình", birth_date=date(1990, 5, 1), sex="M", birth_place_code="079"))
        s.add(StaffAccount(personal_id=ADMIN_PID, role="admin"))
        s.flush()
        service.ensure_provinces(s)
        for unit in service.list_units(s, include_facilities=False)[:5]:
            service.update_unit(s, ADMIN, unit.id, {"status": "testing", "test_batch": 1,
                                                    "test_start": date.today() - timedelta(days=3)}, note="đợt 1")
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "lienthong.ops.tests.server:app",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                            cwd=Path(__file__).resolve().parents[3])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + (tmp_path / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        _clean(url)


@pytest.fixture
def browser(tmp_path):
    from lienthong.ops.tests.cdp import Browser

    b = Browser(_require_chromium(), tmp_path / "chromium-profile", WIDTH, HEIGHT)
    try:
        yield b
    finally:
        b.close()


def _artifact(tmp_path: Path, name: str) -> Path:
    """Screenshots go to the test's tmp dir, and also to LIENTHONG_ARTIFACTS if set (CI upload)."""
    target = os.environ.get("LIENTHONG_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        return Path(target) / name
    return tmp_path / name


def check_screenshot(data: bytes, header: bool = True) -> None:
    from PIL import Image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert img.size == (WIDTH, HEIGHT)
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


def login(browser, base: str, path: str) -> None:
    """Open a protected page; follow the real login through the dev IdP form."""
    browser.navigate(base + path)
    browser.wait_for("document.readyState === 'complete' && !!document.getElementById('personal_id')",
                     what="the identity provider's login form")
    browser.evaluate(f"document.getElementById('personal_id').value = '{ADMIN_PID}';"
                     "document.querySelector('button[value=login]').click(); true")
    browser.wait_for(f"location.pathname === '{path}' && document.readyState === 'complete'",
                     what=f"return to {path} after login")


def test_dashboard_and_rollout_in_chromium(live_server, browser, tmp_path):
    login(browser, live_server, "/thong-ke")
    text = browser.evaluate("document.body.innerText")
    assert "Thống kê liên thông dữ liệu" in text
    assert "Độ phủ cơ sở khám chữa bệnh kết nối" in text
    assert "Chi phí xã hội tiết kiệm được (ước tính)" in text
    assert "Giả định dùng để ước tính" in text
    assert "Trần Thị Bình" in text and "Quản trị" in text
    assert browser.evaluate("document.querySelectorAll('svg.chart[role=img] title').length") >= 3
    check_screenshot(browser.screenshot(_artifact(tmp_path, "thong-ke.png")))
    # the seeded month, charts section scrolled into view (header not visible there: no header check)
    browser.navigate(live_server + "/thong-ke?from=2026-03-01&to=2026-03-31")
    browser.wait_for("document.readyState === 'complete' && location.search.includes('2026-03-31')")
    assert "Diễn biến theo ngày" in browser.evaluate("document.body.innerText")
    assert browser.evaluate("document.querySelectorAll('svg.chart circle').length") == 3 * 31
    browser.evaluate("document.getElementById('charts-h').scrollIntoView(); true")
    time.sleep(0.2)
    check_screenshot(browser.screenshot(_artifact(tmp_path, "thong-ke-bieu-do.png")), header=False)

    # filter by province through the form
    browser.evaluate("document.querySelector('select[name=province]').value = '79';"
                     "document.querySelector('input[name=from]').value = '2026-03-01';"
                     "document.querySelector('input[name=to]').value = '2026-03-31';"
                     "document.querySelector('form.inline').submit(); true")
    browser.wait_for("location.search.includes('province=79') && document.readyState === 'complete'")
    text = browser.evaluate("document.body.innerText")
    assert "từ 01/03/2026 đến 31/03/2026, Thành phố Hồ Chí Minh" in text

    browser.navigate(live_server + "/trien-khai")
    browser.wait_for("document.readyState === 'complete' && !!document.querySelector('table')")
    text = browser.evaluate("document.body.innerText")
    assert "Tiến độ triển khai tại các tỉnh, thành phố" in text
    assert "Đang kiểm thử: 5" in text and "Chưa bắt đầu: 29" in text
    assert browser.evaluate("document.querySelectorAll('tbody tr[id^=unit-]').length") == 34
    check_screenshot(browser.screenshot(_artifact(tmp_path, "trien-khai.png")))

    # HTMX edit of the Hà Nội row (first row), as an administrator
    row_id = browser.evaluate("document.querySelector('tbody tr[id^=unit-]').id")
    browser.evaluate(f"document.querySelector('#{row_id} button').click(); true")
    browser.wait_for(f"!!document.querySelector('#{row_id} form')", what="the edit form")
    browser.evaluate(f"""(() => {{
        const f = document.querySelector('#{row_id} form');
        f.status.value = 'test_done';
        f.test_end.value = '{date.today().isoformat()}';
        f.change_note.value = 'Kiểm thử qua trình duyệt';
        f.querySelector('button[type=submit]').click();
        return true; }})()""")
    browser.wait_for(f"(document.querySelector('#{row_id}')?.innerText || '').includes('Đã lưu')",
                     what="the saved row")
    assert "Đã kiểm thử xong" in browser.evaluate(f"document.querySelector('#{row_id}').innerText")

    from sqlalchemy import select

    from lienthong.db import session_factory
    from lienthong.ops.models import RolloutChange

    with session_factory()() as s:
        change = s.scalars(select(RolloutChange).where(RolloutChange.note == "Kiểm thử qua trình duyệt",
                                                       RolloutChange.field == "status")).one()
        assert (change.old_value, change.new_value, change.actor_id) == ("testing", "test_done", ADMIN_PID)
