"""Statistics computed from live data: a registry of named metrics, one module per context.

Every metric is *decomposable by province*: its function returns, per province code (34-set;
``None`` for rows without a province), a pair ``(numerator, denominator)``. The value shown is

* ``count``: the numerator (the denominator is ignored);
* ``ratio``: numerator / denominator, as a percentage;
* ``mean``: numerator / denominator (e.g. total days / number of cases).

so national totals are sums over provinces, and the province filter is a WHERE clause. Count
metrics additionally declare their timestamp so the dashboard can draw them over time.

Adding a metric for a context is a few lines in that context's module here. A count (with its
series over time) is one call::

    register_count(key="civil.cases", context="civil", unit="hồ sơ", label=..., definition=..., formula=...,
                   base=lambda: select().select_from(ProcedureCase), ts=ProcedureCase.created_at,
                   province=ProcedureCase.province_code)

and any other metric a function returning per-province (numerator, denominator) parts::

    @register(key="civil.sla_compliance", context="civil", kind="ratio", unit="%", label=..., ...)
    def _sla(db, f):
        return grouped(db, stmt, ProcedureCase.province_code, f, on_time, func.count())

Derived metrics (estimated savings) combine other metrics' per-province parts with configured
unit costs (:mod:`lienthong.ops.costs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from lienthong.workdays.calendar import VN_TZ

MAX_PERIOD_DAYS = 3 * 366

Parts = dict[int | None, tuple[float, float]]


@dataclass(frozen=True)
class StatsFilter:
    """Province (34-set code or None for the whole country) and period: Vietnam-local dates, both inclusive."""

    start: date
    end: date
    province_code: int | None = None

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), VN_TZ).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:  # exclusive
        return datetime.combine(self.end + timedelta(days=1), time(), VN_TZ).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def default_filter(today: date | None = None, province_code: int | None = None) -> StatsFilter:
    today = today or datetime.now(VN_TZ).date()
    return StatsFilter(start=today - timedelta(days=29), end=today, province_code=province_code)


@dataclass(frozen=True)
class Metric:
    key: str
    context: str
    label: str
    kind: str  # count, ratio, mean, money
    unit: str
    definition: str
    formula: str
    fn: Callable[[Session, StatsFilter], Parts]
    series: Callable[[Session, StatsFilter], dict[date, float]] | None = None
    assumption: bool = False


@dataclass(frozen=True)
class Derived:
    key: str
    context: str
    label: str
    kind: str
    unit: str
    definition: str
    formula: str
    depends: tuple[str, ...]
    combine: Callable[[dict[str, tuple[float, float]], dict], tuple[float, float]]
    assumption: bool = True


REGISTRY: dict[str, Metric | Derived] = {}
CONTEXTS: dict[str, str] = {}  # context key -> Vietnamese title, in display order


def context(key: str, title: str) -> None:
    CONTEXTS.setdefault(key, title)


def register(*, key: str, context: str, label: str, kind: str, unit: str, definition: str, formula: str,
             series: Callable | None = None):
    if kind not in ("count", "ratio", "mean"):
        raise ValueError(kind)

    def wrap(fn):
        if key in REGISTRY:
            raise ValueError(f"metric {key!r} registered twice")
        REGISTRY[key] = Metric(key, context, label, kind, unit, definition, formula, fn, series)
        return fn

    return wrap


def register_count(*, key: str, context: str, label: str, unit: str, definition: str, formula: str,
                   base: Callable, ts: ColumnElement, province: ColumnElement) -> None:
    """A count metric: rows of ``base()`` whose ``ts`` falls in the period, per ``province``, and
    the same count per day for the dashboard's series (see :func:`count_by_province`)."""
    register(key=key, context=context, label=label, kind="count", unit=unit, definition=definition,
             formula=formula, series=lambda db, f: count_series(db, f, base, ts, province))(
        lambda db, f: count_by_province(db, f, base, ts, province))


def register_derived(d: Derived) -> None:
    missing = [k for k in d.depends if k not in REGISTRY]
    if missing:
        raise ValueError(f"derived metric {d.key} depends on unknown metrics {missing}")
    REGISTRY[d.key] = d


# --- SQL helpers (portable between PostgreSQL and SQLite) ---------------------------------------


def in_period(ts: ColumnElement, f: StatsFilter) -> ColumnElement:
    return (ts >= f.start_utc) & (ts < f.end_utc)


def seconds_between(db: Session, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def local_day(db: Session, ts: ColumnElement) -> ColumnElement:
    """The Vietnam-local calendar day of a UTC timestamp (UTC+7, no daylight saving)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Ho_Chi_Minh", ts))
    return func.date(ts, "+7 hours")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def grouped(db: Session, stmt, province: ColumnElement, f: StatsFilter, num, den) -> Parts:
    """Run ``stmt`` (FROM/JOIN/WHERE already set) grouped by ``province``; returns per-province parts."""
    if f.province_code is not None:
        stmt = stmt.where(province == f.province_code)
    stmt = stmt.add_columns(province, num, den).group_by(province)
    return {(int(p) if p is not None else None): (float(n or 0), float(d or 0)) for p, n, d in db.execute(stmt)}


def count_by_province(db: Session, f: StatsFilter, base, ts: ColumnElement, province: ColumnElement,
                      count: ColumnElement | None = None) -> Parts:
    """``base`` is a callable returning a fresh ``Select`` with FROM/JOIN/static WHERE and no columns."""
    count = count if count is not None else func.count()
    return grouped(db, base().where(in_period(ts, f)), province, f, count, func.count())


def count_series(db: Session, f: StatsFilter, base, ts: ColumnElement, province: ColumnElement,
                 count: ColumnElement | None = None) -> dict[date, float]:
    count = count if count is not None else func.count()
    stmt = base().where(in_period(ts, f))
    if f.province_code is not None:
        stmt = stmt.where(province == f.province_code)
    day = local_day(db, ts)
    stmt = stmt.add_columns(day, count).group_by(day)
    return {_as_date(d): float(n) for d, n in db.execute(stmt) if d is not None}


# --- computing ----------------------------------------------------------------------------------


@dataclass
class ProvinceValue:
    province_code: int | None
    numerator: float
    denominator: float
    value: float | None


@dataclass
class Result:
    metric: Metric | Derived
    numerator: float
    denominator: float
    value: float | None
    by_province: list[ProvinceValue] = field(default_factory=list)
    series: list[tuple[date, float]] | None = None


def value_of(kind: str, num: float, den: float) -> float | None:
    if kind in ("count", "money"):
        return num
    if not den:
        return None
    if kind == "ratio":
        return 100.0 * num / den
    return num / den


def _result(m, parts: Parts) -> Result:
    num = sum(n for n, _ in parts.values())
    den = sum(d for _, d in parts.values())
    by = [ProvinceValue(p, n, d, value_of(m.kind, n, d)) for p, (n, d) in sorted(
        parts.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
    return Result(m, num, den, value_of(m.kind, num, den), by)


def series_buckets(f: StatsFilter, daily: dict[date, float]) -> list[tuple[date, float]]:
    """Daily points for periods up to 62 days, otherwise weekly (Monday-based) or monthly sums."""
    if f.days <= 62:
        return [(f.start + timedelta(days=i), daily.get(f.start + timedelta(days=i), 0.0)) for i in range(f.days)]
    if f.days <= 366:
        start = f.start - timedelta(days=f.start.weekday())
        buckets: dict[date, float] = {}
        d = start
        while d <= f.end:
            buckets[d] = 0.0
            d += timedelta(days=7)
        for day, v in daily.items():
            buckets[day - timedelta(days=day.weekday())] = buckets.get(day - timedelta(days=day.weekday()), 0) + v
        return sorted(buckets.items())
    months: dict[date, float] = {}
    d = f.start.replace(day=1)
    while d <= f.end:
        months[d] = 0.0
        d = (d + timedelta(days=32)).replace(day=1)
    for day, v in daily.items():
        months[day.replace(day=1)] = months.get(day.replace(day=1), 0) + v
    return sorted(months.items())


def compute(db: Session, f: StatsFilter, keys: list[str] | None = None, *, with_series: bool = True,
            costs: dict | None = None) -> dict[str, Result]:
    from lienthong.ops.costs import unit_costs

    costs = costs if costs is not None else unit_costs()
    selected = [k for k in REGISTRY if keys is None or k in keys]
    parts: dict[str, Parts] = {}
    results: dict[str, Result] = {}
    for key in REGISTRY:  # derived metrics come after their dependencies (registration order)
        m = REGISTRY[key]
        needed = key in selected or any(key in getattr(REGISTRY[s], "depends", ()) for s in selected)
        if not needed:
            continue
        if isinstance(m, Metric):
            parts[key] = m.fn(db, f)
            results[key] = _result(m, parts[key])
            if with_series and m.series is not None:
                results[key].series = series_buckets(f, m.series(db, f))
        else:
            provinces = set().union(*(parts[d].keys() for d in m.depends))
            combined = {p: m.combine({d: parts[d].get(p, (0.0, 0.0)) for d in m.depends}, costs) for p in provinces}
            parts[key] = combined
            results[key] = _result(m, combined)
    return {k: v for k, v in results.items() if k in selected}


from lienthong.ops.metrics import health as _health  # noqa: E402,F401  (registers)
from lienthong.ops.metrics import judicial as _judicial  # noqa: E402,F401
from lienthong.ops.metrics import civil as _civil  # noqa: E402,F401
from lienthong.ops.metrics import savings as _savings  # noqa: E402,F401
