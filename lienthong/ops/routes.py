"""Ops routes: the JSON API (``api_router``, under /api/v1/ops) and the Vietnamese web pages
(``web_router``: /thong-ke, /trien-khai, /ki-ot). Reading needs ``ops.read`` (officers, admins),
changing needs ``ops.manage`` (admins)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.facilities.models import Facility
from lienthong.geo import units
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal
from lienthong.ops import charts, costs as costs_mod, fmt, metrics, reports, schemas, service
from lienthong.ops.models import ASSESSMENT_STATES, ROLLOUT_STATUSES
from lienthong.web import routes as web
from lienthong.web.dates import parse_optional_vn_date
from lienthong.web.templating import make_templates, page_renderer
from lienthong.params import ProvinceCode, RowId, Version

templates = make_templates(Path(__file__).parent / "templates")
templates.env.filters.update(vnnum=fmt.vnnum, vndatetime=fmt.vndatetime,  # minutes, not seconds
                             metric_value=fmt.metric_value, change_text=reports.change_text)
templates.env.globals.update(STATUS_LABELS=service.STATUS_LABELS, ASSESSMENT_LABELS=service.ASSESSMENT_LABELS,
                             FIELD_LABELS=service.FIELD_LABELS, TIER_LABELS=service.TIER_LABELS,
                             province_name=service.province_name, STATUSES=ROLLOUT_STATUSES,
                             ASSESSMENTS=ASSESSMENT_STATES)

api_router = APIRouter(prefix="/api/v1/ops", tags=["ops"])
web_router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


render = page_renderer(templates)


def _province(code: int | None) -> int | None:
    if code is None:
        return None
    units.province(code)  # UnknownUnit -> 422
    return int(code)


def parse_filter(province: int | None, start: date | None, end: date | None) -> metrics.StatsFilter:
    default = metrics.default_filter()
    end = end or default.end
    if end.year < 2000 or (start and start.year < 2000):
        raise DomainError("kỳ thống kê phải từ năm 2000 trở đi", field="from" if start and start.year < 2000 else "to")
    start = start or (end - timedelta(days=29))
    if start > end:
        raise DomainError("ngày bắt đầu phải trước hoặc bằng ngày kết thúc", field="from")
    if (end - start).days + 1 > metrics.MAX_PERIOD_DAYS:
        raise DomainError(f"kỳ thống kê tối đa {metrics.MAX_PERIOD_DAYS} ngày", field="from")
    return metrics.StatsFilter(start, end, _province(province))


def _unit_out(u) -> schemas.RolloutUnitOut:
    out = schemas.RolloutUnitOut.model_validate(u)
    out.province_name = service.province_name(u.province_code)
    out.status_label = service.STATUS_LABELS[u.status]
    return out


# --- statistics ---------------------------------------------------------------------------------


def stats_payload(results: dict[str, metrics.Result], f: metrics.StatsFilter, unit_costs: dict) -> dict:
    out = []
    for key, r in results.items():
        m = r.metric
        item = {
            "key": key, "context": m.context, "label": m.label, "kind": m.kind, "unit": m.unit,
            "value": r.value, "numerator": r.numerator, "denominator": r.denominator if m.kind != "count" else None,
            "display": fmt.metric_value(m.kind, r.value, m.unit), "definition": m.definition, "formula": m.formula,
            "assumption": getattr(m, "assumption", False),
            "by_province": [{"province_code": p.province_code, "province_name": service.province_name(p.province_code),
                             "value": p.value, "numerator": p.numerator,
                             "denominator": p.denominator if m.kind != "count" else None} for p in r.by_province],
        }
        if r.series is not None:
            item["series"] = [{"date": d.isoformat(), "value": v} for d, v in r.series]
        out.append(item)
    return {
        "period": {"from": f.start.isoformat(), "to": f.end.isoformat(), "timezone": "Asia/Ho_Chi_Minh"},
        "province": ({"code": f.province_code, "name": service.province_name(f.province_code)}
                     if f.province_code is not None else None),
        "assumptions": {
            "paper_visit_vnd": unit_costs["paper_visit_vnd"], "online_vnd": unit_costs["online_vnd"],
            "configured": unit_costs["configured"],
            "note": "Đơn giá là giả định dùng để ước tính, cấu hình bằng LIENTHONG_OPS_PAPER_VISIT_VND và "
                    "LIENTHONG_OPS_ONLINE_VND.",
        },
        "contexts": metrics.CONTEXTS,
        "metrics": out,
    }


@api_router.get("/stats")
def stats(province: ProvinceCode | None = Query(None, description="34-set province code"),
          start: date | None = Query(None, alias="from"), end: date | None = Query(None, alias="to"),
          metric: list[str] | None = Query(None, description="only these metric keys"),
          _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)) -> dict:
    """Statistics computed from live data for a province (or the country) and a period (Vietnam dates)."""
    f = parse_filter(province, start, end)
    if metric:
        unknown = [k for k in metric if k not in metrics.REGISTRY]
        if unknown:
            raise DomainError(f"chỉ số không tồn tại: {', '.join(unknown)}", field="metric")
    unit_costs = costs_mod.unit_costs()
    return stats_payload(metrics.compute(db, f, metric, costs=unit_costs), f, unit_costs)


def _dashboard_charts(results: dict[str, metrics.Result], f: metrics.StatsFilter) -> list:
    out = []

    def by_province(key: str, title: str, fmt_fn=fmt.vnnum, max_value=None):
        r = results[key]
        items = [(service.province_name(p.province_code), p.value) for p in r.by_province
                 if p.province_code is not None]
        if r.metric.kind == "count":
            items.sort(key=lambda kv: -(kv[1] or 0))
        out.append((title, charts.bar_chart(title, items, fmt=fmt_fn, max_value=max_value,
                                    description=f"{title}, từ {fmt.vndate(f.start)} đến {fmt.vndate(f.end)}")))

    by_province("judicial.applications", "Hồ sơ yêu cầu cấp Phiếu lý lịch tư pháp theo tỉnh")
    by_province("health.facility_coverage", "Độ phủ cơ sở khám chữa bệnh kết nối theo tỉnh (%)",
                lambda v: f"{fmt.vnnum(v, 1)} %", 100)
    series = {results[k].metric.label: results[k].series or [] for k in
              ("health.books_created", "judicial.applications", "civil.cases")}
    step = "ngày" if f.days <= 62 else ("tuần" if f.days <= 366 else "tháng")
    title = f"Diễn biến theo {step}"
    out.append((title, charts.line_chart(title, series, description=f"Sổ sức khỏe được tạo, hồ sơ LLTP và hồ sơ "
                                                                    f"liên thông theo {step}")))
    return out


@web_router.get("/thong-ke", response_class=HTMLResponse)
def dashboard(request: Request, province: str = Query(""), start: str = Query("", alias="from"),
              end: str = Query("", alias="to"), _: Principal = Depends(web.web_requires("ops.read")),
              db: Session = Depends(get_db)):
    error = None
    try:
        f = parse_filter(int(province) if province.strip().isdigit() else None,
                         parse_optional_vn_date(start, field="from"), parse_optional_vn_date(end, field="to"))
    except (DomainError, ValueError, units.UnknownUnit) as exc:
        error = getattr(exc, "message", None) or "bộ lọc không hợp lệ"
        f = metrics.default_filter()
    unit_costs = costs_mod.unit_costs()
    results = metrics.compute(db, f, costs=unit_costs)
    groups = {c: [r for r in results.values() if r.metric.context == c] for c in metrics.CONTEXTS}
    return render(request, "ops_dashboard.html", f=f, groups=groups, contexts=metrics.CONTEXTS, error=error,
                  charts=_dashboard_charts(results, f), provinces=units.provinces(), costs=unit_costs,
                  cost_labels=costs_mod.LABELS, results=results)


# --- rollout: API -------------------------------------------------------------------------------


@api_router.get("/rollout", response_model=list[schemas.RolloutUnitOut])
def list_rollout(province: ProvinceCode | None = None, status: str | None = None, facilities: bool = True,
                 _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    if status and status not in ROLLOUT_STATUSES:
        raise DomainError("trạng thái không hợp lệ", field="status")
    return [_unit_out(u) for u in service.list_units(db, province_code=_province(province), status=status,
                                                     include_facilities=facilities)]


@api_router.get("/rollout/history", response_model=list[schemas.RolloutChangeOut])
def rollout_history(limit: int = Query(100, ge=1, le=1000), _: Principal = Depends(requires("ops.read")),
                    db: Session = Depends(get_db)):
    return service.history(db, limit=limit)


@api_router.get("/rollout/report.xlsx", response_class=Response)
def report_xlsx(week_of: date | None = None, province: ProvinceCode | None = None,
                _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    r = reports.build(db, week_of, _province(province))
    return Response(reports.to_xlsx(r), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="bao-cao-trien-khai-{r.week_start.isoformat()}.xlsx"'})


@api_router.get("/rollout/report.pdf", response_class=Response)
def report_pdf(week_of: date | None = None, province: ProvinceCode | None = None,
               _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    r = reports.build(db, week_of, _province(province))
    return Response(reports.to_pdf(r), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="bao-cao-trien-khai-{r.week_start.isoformat()}.pdf"'})


@api_router.get("/rollout/{unit_id}", response_model=schemas.RolloutDetail)
def get_rollout(unit_id: RowId, _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    unit = service.get_unit(db, unit_id)
    return schemas.RolloutDetail(unit=_unit_out(unit), history=service.history(db, unit_id=unit_id))


@api_router.patch("/rollout/{unit_id}", response_model=schemas.RolloutDetail)
def update_rollout(unit_id: RowId, body: schemas.RolloutUpdate, principal: Principal = Depends(requires("ops.manage")),
                   db: Session = Depends(get_db)):
    values = body.model_dump(exclude_unset=True, exclude={"change_note", "version"})
    for required in ("status", "source_assessment", "system_assessment", "machine_ready", "access_granted"):
        if required in values and values[required] is None:
            raise DomainError("trường này không được để trống", field=required)
    if "note" in values and values["note"] is None:
        values["note"] = ""
    service.update_unit(db, principal, unit_id, values, note=body.change_note, expected_version=body.version)
    db.flush()
    unit = service.get_unit(db, unit_id)
    return schemas.RolloutDetail(unit=_unit_out(unit), history=service.history(db, unit_id=unit_id))


@api_router.post("/rollout/facilities", response_model=schemas.RolloutUnitOut, status_code=201)
def add_facility(body: schemas.FacilityUnitIn, principal: Principal = Depends(requires("ops.manage")),
                 db: Session = Depends(get_db)):
    return _unit_out(service.add_facility_unit(db, principal, body.facility_code, body.note))


# --- kiosks: API --------------------------------------------------------------------------------


def _kiosk_items(db: Session, province: int | None, tier: str | None) -> list[schemas.KioskOut]:
    return [schemas.KioskOut(facility_code=k.facility_code, facility_name=fac.name, province_code=fac.province_code,
                             tier=fac.tier, committed=k.committed, deployed=k.deployed, note=k.note,
                             updated_at=k.updated_at)
            for k, fac in service.kiosk_rows(db, province_code=province, tier=tier)]


def _agg(a) -> schemas.KioskAggregateOut:
    return schemas.KioskAggregateOut(key=a.key, label=a.label, facilities=a.facilities, committed=a.committed,
                                     deployed=a.deployed, percent=a.percent)


@api_router.get("/kiosks", response_model=schemas.KioskSummary)
def list_kiosks(province: ProvinceCode | None = None, tier: str | None = None, _: Principal = Depends(requires("ops.read")),
                db: Session = Depends(get_db)):
    province = _province(province)
    s = service.kiosk_summary(db, province_code=province)
    return schemas.KioskSummary(total=_agg(s["total"]), by_tier=[_agg(a) for a in s["by_tier"]],
                                by_province=[_agg(a) for a in s["by_province"]],
                                items=_kiosk_items(db, province, tier))


@api_router.put("/kiosks/{facility_code}", response_model=schemas.KioskOut)
def put_kiosks(facility_code: str, body: schemas.KioskIn, principal: Principal = Depends(requires("ops.manage")),
               db: Session = Depends(get_db)):
    k = service.set_kiosks(db, principal, facility_code, committed=body.committed, deployed=body.deployed,
                           note=body.note)
    fac = db.get(Facility, facility_code)
    return schemas.KioskOut(facility_code=k.facility_code, facility_name=fac.name, province_code=fac.province_code,
                            tier=fac.tier, committed=k.committed, deployed=k.deployed, note=k.note,
                            updated_at=k.updated_at)


# --- rollout and kiosks: web pages --------------------------------------------------------------


def _facility_names(db: Session, unit_list) -> dict[str, str]:
    codes = [u.facility_code for u in unit_list if u.facility_code]
    return dict(db.execute(select(Facility.code, Facility.name).where(Facility.code.in_(codes))).all()) if codes else {}


@web_router.get("/trien-khai", response_class=HTMLResponse)
def rollout_page(request: Request, province: str = Query(""), status: str = Query(""),
                 _: Principal = Depends(web.web_requires("ops.read")), db: Session = Depends(get_db)):
    prov = int(province) if province.isdigit() else None
    all_units = service.list_units(db)
    unit_list = [u for u in all_units if (prov is None or u.province_code == prov)
                 and (status not in ROLLOUT_STATUSES or u.status == status)]
    return render(request, "ops_rollout.html", units=unit_list, names=_facility_names(db, all_units),
                  counts=service.status_counts([u for u in all_units if u.facility_code is None]),
                  recent=service.history(db, limit=20), unit_index={u.id: u for u in all_units},
                  provinces=units.provinces(), sel_province=prov, sel_status=status)


@web_router.get("/trien-khai/{unit_id}/sua", response_class=HTMLResponse)
def rollout_edit_form(request: Request, unit_id: RowId, _: Principal = Depends(web.web_requires("ops.manage")),
                      db: Session = Depends(get_db)):
    unit = service.get_unit(db, unit_id)
    return render(request, "ops_rollout_form.html", u=unit, names=_facility_names(db, [unit]), error=None)


@web_router.get("/trien-khai/{unit_id}/dong", response_class=HTMLResponse)
def rollout_row(request: Request, unit_id: RowId, _: Principal = Depends(web.web_requires("ops.read")),
                db: Session = Depends(get_db)):
    unit = service.get_unit(db, unit_id)
    return render(request, "ops_rollout_row.html", u=unit, names=_facility_names(db, [unit]))


@web_router.post("/trien-khai/{unit_id}", response_class=HTMLResponse)
def rollout_save(request: Request, unit_id: RowId, version: Annotated[Version, Form()], test_batch: str = Form(""),
                 test_start: str = Form(""), test_end: str = Form(""), status: str = Form(...),
                 source_assessment: str = Form(...), system_assessment: str = Form(...),
                 machine_ready: str = Form(""), access_granted: str = Form(""), note: str = Form(""),
                 change_note: str = Form(""), principal: Principal = Depends(web.web_requires("ops.manage")),
                 db: Session = Depends(get_db)):
    unit = service.get_unit(db, unit_id)
    try:
        batch = test_batch.strip()
        if batch and not batch.isdigit():
            raise DomainError("đợt kiểm thử phải là số")
        values = {"test_batch": int(batch) if batch else None, "test_start": parse_optional_vn_date(test_start, field="test_start"),
                  "test_end": parse_optional_vn_date(test_end, field="test_end"), "status": status, "source_assessment": source_assessment,
                  "system_assessment": system_assessment, "machine_ready": machine_ready == "1",
                  "access_granted": access_granted == "1", "note": note.strip()[:2000]}
        service.update_unit(db, principal, unit_id, values, note=change_note.strip()[:500],
                            expected_version=version)
    except DomainError as exc:
        db.rollback()
        unit = service.get_unit(db, unit_id)
        return render(request, "ops_rollout_form.html", u=unit, names=_facility_names(db, [unit]),
                      error=exc.message[:1].upper() + exc.message[1:] + ".")
    db.flush()
    return render(request, "ops_rollout_row.html", u=unit, names=_facility_names(db, [unit]), saved=True)


@web_router.get("/trien-khai/{unit_id}/lich-su", response_class=HTMLResponse)
def rollout_history_page(request: Request, unit_id: RowId, _: Principal = Depends(web.web_requires("ops.read")),
                         db: Session = Depends(get_db)):
    unit = service.get_unit(db, unit_id)
    return render(request, "ops_history.html", u=unit, names=_facility_names(db, [unit]),
                  changes=service.history(db, unit_id=unit_id, limit=1000))


@web_router.post("/trien-khai/co-so", response_class=HTMLResponse)
def rollout_add_facility(request: Request, facility_code: str = Form(...), note: str = Form(""),
                         principal: Principal = Depends(web.web_requires("ops.manage")), db: Session = Depends(get_db)):
    try:
        unit = service.add_facility_unit(db, principal, facility_code.strip(), note.strip()[:2000])
    except DomainError as exc:
        db.rollback()
        return HTMLResponse(f'<p class="error" role="alert">{_escape(exc.message)}</p>')
    db.flush()
    return HTMLResponse(f'<p role="status">Đã thêm cơ sở {_escape(unit.facility_code)} vào danh sách theo dõi. '
                        f'<a href="/trien-khai?province={unit.province_code}">Xem</a></p>')


def _escape(text: str) -> str:
    from html import escape

    return escape(text)


def _kiosk_context(db: Session, province: int | None) -> dict:
    s = service.kiosk_summary(db, province_code=province)
    tiers = s["by_tier"]
    chart = charts.bar_chart("Tỷ lệ ki-ốt đã triển khai so với cam kết theo tuyến (%)",
                             [(a.label, a.percent) for a in tiers], fmt=lambda v: f"{fmt.vnnum(v, 1)} %",
                             max_value=100, color=charts.PALETTE[1])
    return {"summary": s, "chart": chart, "items": service.kiosk_rows(db, province_code=province),
            "provinces": units.provinces(), "sel_province": province}


@web_router.get("/ki-ot", response_class=HTMLResponse)
def kiosk_page(request: Request, province: str = Query(""), _: Principal = Depends(web.web_requires("ops.read")),
               db: Session = Depends(get_db)):
    prov = int(province) if province.isdigit() else None
    return render(request, "ops_kiosks.html", error=None, **_kiosk_context(db, prov))


@web_router.post("/ki-ot", response_class=HTMLResponse)
def kiosk_save(request: Request, facility_code: str = Form(...), committed: str = Form(...), deployed: str = Form(...),
               note: str = Form(""), principal: Principal = Depends(web.web_requires("ops.manage")),
               db: Session = Depends(get_db)):
    error = None
    try:
        if not committed.strip().isdigit() or not deployed.strip().isdigit():
            raise DomainError("số ki-ốt phải là số nguyên không âm")
        service.set_kiosks(db, principal, facility_code.strip(), committed=int(committed), deployed=int(deployed),
                           note=note.strip()[:1000])
        db.flush()
    except DomainError as exc:
        db.rollback()
        error = exc.message[:1].upper() + exc.message[1:] + "."
    return render(request, "ops_kiosks_body.html", error=error, saved=error is None, **_kiosk_context(db, None))
