"""Real headless-browser tests: the system Chromium (Debian package ``chromium``) drives a real
uvicorn server, logs in through the development identity provider's form (OpenID Connect code
flow, as a user would), opens the dashboard and the rollout page, edits a row with HTMX and takes
screenshots that are checked.

Without Chromium the tests fail in CI (``CI=true``) and are skipped elsewhere.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from lienthong.testing_browser import (artifact as _artifact, check_screenshot as _check_screenshot, free_port,
                                       live_uvicorn, login as _login, require_chromium as _require_chromium)

ADMIN_PID = "079090000001"
WIDTH, HEIGHT = 1280, 900


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
    port = free_port()
    monkeypatch.setenv("LIENTHONG_BASE_URL", f"http://127.0.0.1:{port}")
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
    try:
        with live_uvicorn("lienthong.app:create_app", port, tmp_path / "server.log") as base:
            yield base
    finally:
        _clean(url)


@pytest.fixture
def browser(tmp_path):
    from lienthong.testing_browser import Browser

    b = Browser(_require_chromium(), tmp_path / "chromium-profile", WIDTH, HEIGHT)
    try:
        yield b
    finally:
        b.close()


def check_screenshot(data: bytes, header: bool = True) -> None:
    _check_screenshot(data, WIDTH, HEIGHT, header=header)


def login(browser, base: str, path: str) -> None:
    """Open a protected page; follow the real login through the dev IdP form."""
    _login(browser, base, path, ADMIN_PID)


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
                     "document.querySelector('input[name=from]').value = '01/03/2026';"
                     "document.querySelector('input[name=to]').value = '31/03/2026';"
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
        f.test_end.value = '{date.today().strftime("%d/%m/%Y")}';
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
