"""Issue #23: the officer pages show the warnings of the configurable legal figures a case depends on."""

from datetime import date

from lienthong.judicial.rules import procedure as rp
from lienthong.judicial.tests.helpers import COURT, citizen, conviction_body, officer, register
from lienthong.legal import all_figures

PID = "001090012345"
APPLY = {"kind": 1, "purpose": "Bổ sung hồ sơ xin việc làm", "delivery_electronic": True}


def test_case_and_queue_pages_show_the_warnings(client, bearer, system_reads_registry):
    register(PID, "1990-05-17")
    client.post("/api/v1/judicial/feed/convictions", json=conviction_body(PID), headers=bearer(COURT))
    app_id = client.post("/api/v1/judicial/applications", json=APPLY, headers=bearer(citizen(PID))).json()["id"]
    hn = officer()
    case = client.get(f"/can-bo/ly-lich-tu-phap/{app_id}", headers=bearer(hn))
    assert case.status_code == 200 and "Lưu ý về căn cứ pháp lý" in case.text
    configurable = [f for f in all_figures() if f.key.startswith("procedure.") and f.configurable]
    shown = [f for f in configurable if f.warning_vi in case.text.replace("&#39;", "'").replace("&#34;", '"')]
    assert shown, "no procedure warning on the case page"
    queue = client.get("/can-bo/ly-lich-tu-phap", headers=bearer(hn))
    assert "Lưu ý về căn cứ pháp lý" in queue.text
    rec = client.get(f"/api/v1/judicial/records/{PID}", params={"purpose": "xác minh hồ sơ"}, headers=bearer(hn)).json()
    assert isinstance(rec["legal_notes"], list)
    # the citizen's own pages carry no officer warnings
    mine = client.get("/ly-lich-tu-phap", headers=bearer(citizen(PID)))
    assert "Lưu ý về căn cứ pháp lý" not in mine.text


def test_procedure_notes_follow_the_rules_in_force():
    by_key = {f.key: f.warning_vi for f in all_figures()}
    old = rp.officer_notes(date(2024, 5, 2))
    assert by_key["procedure.fees_tt244"] in old and by_key["procedure.law107_standard"] not in old
    new = rp.officer_notes(date(2026, 8, 3), extended=True)
    assert {by_key[k] for k in ("procedure.fees_tt16_2025", "procedure.law107_standard", "procedure.law107_extended",
                                "procedure.issuer_transfer", "procedure.agency_codes")} <= set(new)
    assert by_key["procedure.vneid_fast_track"] in rp.officer_notes(date(2026, 8, 3), fast_track=True)
