"""Ops routes: the JSON API (``api_router``, under /api/v1/ops) and the Vietnamese web pages
(``web_router``: /thong-ke, /trien-khai, /ki-ot). Reading needs ``ops.read`` (officers, admins),
changing needs ``ops.manage`` (admins)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.errors import DomainError
from lienthong.facilities.models import Facility
from lienthong.geo import units
from lienthong.identity.policy import Target, authorize, requires
from lienthong.identity.principal import Principal
from lienthong.ops import charts, costs as costs_mod, fmt, history, metrics, reports, rules, schemas, service, signals
from lienthong.ops.models import ASSESSMENT_STATES, DEFAULT_SERVICE, ROLLOUT_STATUSES, RolloutService
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
                             ASSESSMENTS=ASSESSMENT_STATES, SOURCE_LABELS=service.SOURCE_LABELS,
                             BASIS_LABELS=service.BASIS_LABELS, PROPOSAL_STATE_LABELS=service.PROPOSAL_STATE_LABELS,
                             unit_label=service.unit_label)

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
    out.province_name = service.province_name(u.province_code, u.unit_set)
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

ServiceKey = Annotated[str, Query(alias="service", max_length=40,
                                  description="tracked service key, see /api/v1/ops/services")]


def _service(db: Session, key: str | None) -> str:
    return service.get_service(db, key or DEFAULT_SERVICE).key


@api_router.get("/services", response_model=list[schemas.ServiceOut])
def list_services(_: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    """The tracked services (built-in ones and those an admin added)."""
    return service.list_services(db)


@api_router.post("/services", response_model=schemas.ServiceOut, status_code=201)
def add_service(body: schemas.ServiceIn, principal: Principal = Depends(requires("ops.manage")),
                db: Session = Depends(get_db)):
    """Track one more service; its 34 province rows are created on first read."""
    return service.add_service(db, principal, body.key, body.name, body.description)


@api_router.get("/rollout", response_model=list[schemas.RolloutUnitOut])
def list_rollout(province: ProvinceCode | None = None, status: str | None = None, facilities: bool = True,
                 service_key: ServiceKey = DEFAULT_SERVICE, unit_set: Literal["vn34", "vn63"] = "vn34",
                 _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    """Rollout rows of a service: today's 34 provinces (``unit_set=vn34``, created on first read) or the
    63 pre-2025 provinces kept as history (``vn63``, filled by imported snapshots)."""
    if status and status not in ROLLOUT_STATUSES:
        raise DomainError("trạng thái không hợp lệ", field="status")
    return [_unit_out(u) for u in service.list_units(db, service_key=_service(db, service_key), unit_set=unit_set,
                                                     province_code=province if unit_set == "vn63" else _province(province),
                                                     status=status, include_facilities=facilities)]


@api_router.get("/rollout/history", response_model=list[schemas.RolloutChangeOut])
def rollout_history(limit: int = Query(100, ge=1, le=1000), service_key: str | None = Query(None, alias="service", max_length=40),
                    _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    return service.history(db, limit=limit, service_key=_service(db, service_key) if service_key else None)


@api_router.get("/rollout/timeline", response_model=schemas.TimelineOut)
def rollout_timeline(service_key: ServiceKey = DEFAULT_SERVICE, start: date | None = Query(None, alias="from"),
                     end: date | None = Query(None, alias="to"), _: Principal = Depends(requires("ops.read")),
                     db: Session = Depends(get_db)):
    """Provinces per status every 7 days (63 old provinces before 01/07/2025, 34 after)."""
    key = _service(db, service_key)
    if start and end and start > end:
        raise DomainError("ngày bắt đầu phải trước hoặc bằng ngày kết thúc", field="from")
    if start and end and (end - start).days > 366 * 10:
        raise DomainError("khoảng thời gian tối đa 10 năm", field="from")
    points = history.timeline(db, key, start=start, end=end)
    return schemas.TimelineOut(service=key, reform=_reform(), points=[
        schemas.TimelinePointOut(day=p.day, unit_set=p.unit_set, counts=p.counts) for p in points])


def _reform() -> dict:
    r = history.REFORM
    return {"effective": r.effective.isoformat(), "from_set": r.from_set, "to_set": r.to_set,
            "legal_basis": r.legal_basis}


@api_router.get("/rollout/paths")
def rollout_paths(service_key: ServiceKey = DEFAULT_SERVICE, _: Principal = Depends(requires("ops.read")),
                  db: Session = Depends(get_db)) -> dict:
    """Every current province: its members' status in the first snapshot, the status the merger gave
    it and today's status."""
    key = _service(db, service_key)
    first, lines = history.paths(db, key)
    return {"service": key, "snapshot": schemas.SnapshotOut.model_validate(first).model_dump(mode="json") if first else None,
            "reform": _reform(), "provinces": [
                {"province_code": p.province_code, "province_name": service.province_name(p.province_code),
                 "unit_id": p.unit.id, "members": [{"name": n, "status": st, "uncertain": unc} for n, st, unc in p.members],
                 "at_merger": p.at_merger, "today": p.today, "basis": p.basis, "pending_proposals": p.pending}
                for p in lines]}


def _proposal_out(p, u) -> schemas.ProposalOut:
    sig = rules.SIGNALS.get(p.signal)
    return schemas.ProposalOut(
        id=p.id, unit_id=u.id, service_key=u.service_key, province_code=u.province_code,
        province_name=service.province_name(u.province_code), signal=p.signal, signal_label=sig.label if sig else p.signal,
        proposed=p.proposed, evidence=p.evidence, evidence_text=signals.evidence_text(p), observed_at=p.observed_at,
        created_at=p.created_at, state=p.state, decided_at=p.decided_at, decided_by=p.decided_by,
        decision_note=p.decision_note)


def _path_out(db: Session, path: history.ProvincePath) -> schemas.ProvincePathOut:
    d = path.derived
    return schemas.ProvincePathOut(
        service=path.service_key, service_name=path.service_name, province_code=path.province_code,
        province_name=service.province_name(path.province_code), unit=_unit_out(path.unit), basis_text=path.basis_text,
        merged=path.merged, reform=_reform(),
        rule={"key": d.rule.value, "label": rules.RULE_LABEL[d.rule], "text": d.text} if d else None,
        derived={**rules.values_to_json(d.values),
                 "explanation": d.explanation, "deciding": list(d.deciding)} if d else None,
        members=[schemas.MemberOut(
            code=m.state.code, name=m.state.name,
            state=rules.values_to_json(m.state.values) if m.state.values is not None else None,
            unit_id=m.unit.id if m.unit else None,
            snapshot_rows=[{"snapshot_id": s.id, "as_of": s.as_of.isoformat(), "title": s.title, "row_no": r.row_no,
                            "cells": r.cells, "uncertain": r.uncertain} for s, r in m.snapshot_rows],
            changes=m.changes) for m in path.members],
        merger_changes=path.merger_changes, own_changes=path.own_changes,
        proposals=[_proposal_out(p, path.unit) for p in path.proposals])


@api_router.get("/rollout/provinces/{province_code}", response_model=schemas.ProvincePathOut)
def rollout_province(province_code: ProvinceCode, service_key: ServiceKey = DEFAULT_SERVICE,
                     _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    """A current province's path to today: its old members' snapshots and changes, the merger (the
    derived state and the rule used), its own changes since and the proposals of live signals."""
    return _path_out(db, history.province_path(db, _province(province_code), _service(db, service_key)))


@api_router.get("/rollout/snapshots", response_model=list[schemas.SnapshotOut])
def rollout_snapshots(service_key: str | None = Query(None, alias="service", max_length=40),
                      _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    return history.list_snapshots(db, _service(db, service_key) if service_key else None)


def _snapshot_detail(db: Session, snap) -> schemas.SnapshotDetail:
    out = schemas.SnapshotDetail(snapshot=schemas.SnapshotOut.model_validate(snap))
    if snap.kind == "figures":
        out.figures = [schemas.FigureOut(**f) for f in history.figures_json(history.snapshot_figures(db, snap))]
        return out
    out.rows = [schemas.SnapshotRowOut(row_no=r.row_no, province_code=r.province_code, province_label=r.province_label,
                                       cells=r.cells, values=r.values, uncertain=r.uncertain)
                for r in history.snapshot_rows(db, snap)]
    figures, printed = history.summary(db, snap)
    out.printed_snapshot = schemas.SnapshotOut.model_validate(printed) if printed else None
    out.summary = [schemas.SummaryFigureOut(
        key=f.key, label=f.label, group=f.group, computed=f.computed, certain=f.certain, possible=f.possible,
        uncertain_rows=list(f.uncertain_rows), printed=f.printed, qualifier=f.qualifier, difference=f.difference,
        verdict=f.verdict, explanation=f.explanation) for f in figures]
    return out


@api_router.get("/rollout/snapshots/{snapshot_id}", response_model=schemas.SnapshotDetail)
def rollout_snapshot(snapshot_id: RowId, _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    """One imported snapshot: a table's rows (uncertain cells named) with its summary figures computed
    from the rows beside the printed ones, or a figures snapshot's figures."""
    return _snapshot_detail(db, history.get_snapshot(db, snapshot_id))


@api_router.get("/rollout/proposals", response_model=list[schemas.ProposalOut])
def rollout_proposals(state: Literal["pending", "confirmed", "rejected"] | None = "pending",
                      service_key: str | None = Query(None, alias="service", max_length=40), province: ProvinceCode | None = None,
                      _: Principal = Depends(requires("ops.read")), db: Session = Depends(get_db)):
    """Status changes proposed by live signals (first accepted health data, first certificate, kiosks)."""
    return [_proposal_out(p, u) for p, u in signals.list_proposals(
        db, state=state, service_key=_service(db, service_key) if service_key else None,
        province_code=_province(province))]


@api_router.post("/rollout/proposals/{proposal_id}/confirm", response_model=schemas.ProposalOut)
def confirm_proposal(proposal_id: RowId, body: schemas.DecisionIn, principal: Principal = Depends(requires("ops.confirm")),
                     db: Session = Depends(get_db)):
    """Apply the proposed change (officers: proposals of their province)."""
    p = signals.confirm(db, principal, proposal_id, body.note)
    return _proposal_out(p, service.get_unit(db, p.unit_id))


@api_router.post("/rollout/proposals/{proposal_id}/reject", response_model=schemas.ProposalOut)
def reject_proposal(proposal_id: RowId, body: schemas.DecisionIn, principal: Principal = Depends(requires("ops.confirm")),
                    db: Session = Depends(get_db)):
    """Turn the proposal down; ``note`` (the reason) is required."""
    p = signals.reject(db, principal, proposal_id, body.note)
    return _proposal_out(p, service.get_unit(db, p.unit_id))


@api_router.get("/rollout/report.xlsx", response_class=Response)
def report_xlsx(week_of: date | None = None, province: ProvinceCode | None = None,
                service_key: ServiceKey = DEFAULT_SERVICE, _: Principal = Depends(requires("ops.read")),
                db: Session = Depends(get_db)):
    r = reports.build(db, week_of, _province(province), service_key=_service(db, service_key))
    return Response(reports.to_xlsx(r), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="bao-cao-trien-khai-{r.week_start.isoformat()}.xlsx"'})


@api_router.get("/rollout/report.pdf", response_class=Response)
def report_pdf(week_of: date | None = None, province: ProvinceCode | None = None,
               service_key: ServiceKey = DEFAULT_SERVICE, _: Principal = Depends(requires("ops.read")),
               db: Session = Depends(get_db)):
    r = reports.build(db, week_of, _province(province), service_key=_service(db, service_key))
    return Response(reports.to_pdf(r), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="bao-cao-trien-khai-{r.week_start.isoformat()}.pdf"'})


@api_router.post("/rollout/facilities", response_model=schemas.RolloutUnitOut, status_code=201)
def add_facility(body: schemas.FacilityUnitIn, principal: Principal = Depends(requires("ops.manage")),
                 db: Session = Depends(get_db)):
    return _unit_out(service.add_facility_unit(db, principal, body.facility_code, body.note,
                                               service_key=_service(db, body.service)))


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


def _web_service(db: Session, key: str) -> RolloutService:
    try:
        return service.get_service(db, key.strip() or DEFAULT_SERVICE)
    except DomainError:
        return service.get_service(db, DEFAULT_SERVICE)


def _can_confirm(principal: Principal | None, province_code: int) -> bool:
    if principal is None:
        return False
    try:
        authorize(principal, "ops.confirm", Target(province_code=province_code))
    except HTTPException:
        return False
    return True


def _proposal_rows(db: Session, principal: Principal | None, **filters) -> list[dict]:
    return [{"p": p, "u": u, "evidence": signals.evidence_text(p), "can_decide": _can_confirm(principal, u.province_code),
             "signal": rules.SIGNALS.get(p.signal)}
            for p, u in signals.list_proposals(db, **filters)]


@web_router.get("/trien-khai", response_class=HTMLResponse)
def rollout_page(request: Request, province: str = Query(""), status: str = Query(""),
                 service_key: str = Query(DEFAULT_SERVICE, alias="service", max_length=40),
                 principal: Principal = Depends(web.web_requires("ops.read")), db: Session = Depends(get_db)):
    prov = int(province) if province.isdigit() else None
    svc = _web_service(db, service_key)
    all_units = service.list_units(db, service_key=svc.key)
    unit_list = [u for u in all_units if (prov is None or u.province_code == prov)
                 and (status not in ROLLOUT_STATUSES or u.status == status)]
    return render(request, "ops_rollout.html", units=unit_list, names=_facility_names(db, all_units),
                  counts=service.status_counts([u for u in all_units if u.facility_code is None]),
                  recent=service.history(db, limit=20, service_key=svc.key), unit_index={u.id: u for u in all_units},
                  provinces=units.provinces(), sel_province=prov, sel_status=status, svc=svc,
                  services=service.list_services(db), rule=rules.merger_rule(), rule_label=rules.RULE_LABEL,
                  proposals=_proposal_rows(db, principal, state="pending", service_key=svc.key),
                  derived_count=sum(1 for u in all_units if u.basis == "derived"))


@web_router.get("/trien-khai/dien-bien", response_class=HTMLResponse)
def rollout_timeline_page(request: Request, service_key: str = Query(DEFAULT_SERVICE, alias="service", max_length=40),
                          _: Principal = Depends(web.web_requires("ops.read")), db: Session = Depends(get_db)):
    """The path to today: weekly status counts (chart), every province's snapshot -> merger -> today."""
    svc = _web_service(db, service_key)
    points = history.timeline(db, svc.key)
    first, lines = history.paths(db, svc.key)
    span_years = len({p.day.year for p in points}) > 1
    title = f"Số tỉnh/thành phố theo trạng thái: {svc.name}"
    chart = charts.line_chart(
        title, {service.STATUS_LABELS[s]: [(p.day, p.counts[s]) for p in points] for s in ROLLOUT_STATUSES},
        description=(f"{title}, mỗi 7 ngày từ {fmt.vndate(points[0].day)} đến {fmt.vndate(points[-1].day)}; trước "
                     f"{fmt.vndate(history.REFORM.effective)} là 63 tỉnh cũ, từ ngày đó là 34 tỉnh"
                     if points else title),
        date_format="%d/%m/%Y" if span_years else "%d/%m", legend_totals=False,
        markers=((history.REFORM.effective, "Hợp nhất 63 → 34 tỉnh"),))
    return render(request, "ops_timeline.html", svc=svc, services=service.list_services(db), points=points,
                  chart=chart, first=first, lines=lines, reform=history.REFORM, rule=rules.merger_rule(),
                  rule_text=rules.RULE_TEXT, rule_label=rules.RULE_LABEL,
                  snapshots=history.list_snapshots(db, svc.key))


@web_router.get("/trien-khai/tinh/{province_code}", response_class=HTMLResponse)
def rollout_province_page(request: Request, province_code: ProvinceCode,
                          principal: Principal = Depends(web.web_requires("ops.read")), db: Session = Depends(get_db)):
    """One current province's path to today, for every tracked service."""
    code = _province(province_code)
    paths_ = [history.province_path(db, code, s.key) for s in service.list_services(db)]
    proposals = {pth.service_key: [{"p": p, "u": pth.unit, "evidence": signals.evidence_text(p),
                                    "can_decide": _can_confirm(principal, code), "signal": rules.SIGNALS.get(p.signal)}
                                   for p in pth.proposals] for pth in paths_}
    return render(request, "ops_province.html", code=code, paths=paths_, proposals=proposals, reform=history.REFORM,
                  rule_label=rules.RULE_LABEL, LETTER_STATUS_TEXT=rules.LETTER_STATUS_TEXT,
                  COLUMN_LABELS=COLUMN_LABELS)


COLUMN_LABELS = {"stt": "STT", "province_old": "Tỉnh/thành phố", "devtest_batch": "Đợt devtest",
                 "devtest_from": "Devtest từ", "devtest_to": "Devtest đến", "deployment_status": "Tình trạng triển khai",
                 "code_security": "ATTT mã nguồn", "system_security": "ATTT hệ thống",
                 "system_security_note": "Ghi chú ATTT hệ thống", "pv06_progress": "Tiến độ PV06"}


@web_router.get("/trien-khai/bang/{snapshot_id}", response_class=HTMLResponse)
def rollout_snapshot_page(request: Request, snapshot_id: RowId, _: Principal = Depends(web.web_requires("ops.read")),
                          db: Session = Depends(get_db)):
    """An imported document: the table as read (uncertain cells marked) and its summary figures
    computed from the rows beside the printed totals, with the differences explained."""
    snap = history.get_snapshot(db, snapshot_id)
    ctx = {"snap": snap, "svc": service.get_service(db, snap.service_key), "rows": [], "summary": [], "printed": None,
           "figures": [], "COLUMN_LABELS": COLUMN_LABELS, "GROUP_LABELS": rules.GROUP_LABELS,
           "VERDICT_LABELS": rules.VERDICT_LABELS}
    if snap.kind == "table":
        ctx["rows"] = history.snapshot_rows(db, snap)
        ctx["summary"], ctx["printed"] = history.summary(db, snap)
    else:
        ctx["figures"] = history.snapshot_figures(db, snap)
    return render(request, "ops_snapshot.html", **ctx)


@web_router.get("/trien-khai/dich-vu", response_class=HTMLResponse)
def rollout_services_page(request: Request, _: Principal = Depends(web.web_requires("ops.read")),
                          db: Session = Depends(get_db)):
    return render(request, "ops_services.html", services=service.list_services(db), error=None, saved=None)


@web_router.post("/trien-khai/dich-vu", response_class=HTMLResponse)
def rollout_service_add(request: Request, key: str = Form(...), name: str = Form(...), description: str = Form(""),
                        principal: Principal = Depends(web.web_requires("ops.manage")), db: Session = Depends(get_db)):
    error, saved = None, None
    try:
        saved = service.add_service(db, principal, key, name, description)
        db.flush()
    except DomainError as exc:
        db.rollback()
        error = exc.message[:1].upper() + exc.message[1:] + "."
    return render(request, "ops_services.html", services=service.list_services(db), error=error, saved=saved,
                  status_code=200 if error is None else 422)


@web_router.post("/trien-khai/de-xuat/{proposal_id}", response_class=HTMLResponse)
def rollout_decide(request: Request, proposal_id: RowId, decision: str = Form(...), note: str = Form(""),
                   principal: Principal = Depends(web.web_requires("ops.confirm")), db: Session = Depends(get_db)):
    """Confirm or reject a proposal (HTMX: returns the proposal's updated card)."""
    error = None
    try:
        if decision == "confirm":
            signals.confirm(db, principal, proposal_id, note[:2000])
        elif decision == "reject":
            signals.reject(db, principal, proposal_id, note[:2000])
        else:
            raise DomainError("quyết định không hợp lệ")
        db.flush()
    except DomainError as exc:
        db.rollback()
        error = exc.message[:1].upper() + exc.message[1:] + "."
    p = signals.get_proposal(db, proposal_id)
    u = service.get_unit(db, p.unit_id)
    item = {"p": p, "u": u, "evidence": signals.evidence_text(p), "can_decide": _can_confirm(principal, u.province_code),
            "signal": rules.SIGNALS.get(p.signal)}
    return render(request, "ops_proposal.html", item=item, error=error)


@web_router.post("/trien-khai/co-so", response_class=HTMLResponse)
def rollout_add_facility(request: Request, facility_code: str = Form(...), note: str = Form(""),
                         service_key: str = Form(DEFAULT_SERVICE, alias="service"),
                         principal: Principal = Depends(web.web_requires("ops.manage")), db: Session = Depends(get_db)):
    try:
        svc = service.get_service(db, service_key)
        unit = service.add_facility_unit(db, principal, facility_code.strip(), note.strip()[:2000], service_key=svc.key)
    except DomainError as exc:
        db.rollback()
        return HTMLResponse(f'<p class="error" role="alert">{_escape(exc.message)}</p>')
    db.flush()
    return HTMLResponse(f'<p role="status">Đã thêm cơ sở {_escape(unit.facility_code)} vào danh sách theo dõi. '
                        f'<a href="/trien-khai?service={_escape(svc.key)}&amp;province={unit.province_code}">Xem</a></p>')


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
                  changes=service.history(db, unit_id=unit_id, limit=1000),
                  svc=service.get_service(db, unit.service_key))


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
            "provinces": units.provinces(), "sel_province": province, **_kiosk_programme(db)}


def _kiosk_programme(db: Session) -> dict:
    """The kiosk programme's latest dated figures beside the live registry (national, not filtered)."""
    snaps = [x for x in history.list_snapshots(db, "medical_kiosk") if x.kind == "figures"]
    if not snaps:
        return {"programme": None, "programme_figures": [], "live": None}
    snap = snaps[-1]
    national = service.kiosk_summary(db)
    live = {"provinces": sum(1 for a in national["by_province"] if a.committed > 0),
            "provinces_deployed": sum(1 for a in national["by_province"] if a.deployed > 0),
            "committed": national["total"].committed, "deployed": national["total"].deployed,
            "facilities": national["total"].facilities}
    return {"programme": snap, "programme_figures": history.snapshot_figures(db, snap), "live": live}


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
