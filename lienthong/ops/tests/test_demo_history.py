"""The demo (``lienthong demo`` seeds through :func:`lienthong.demo.seed.seed_database`) shows the
2024 snapshot and the path to today for every province; seeding again adds nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from lienthong.db import session_factory
from lienthong.demo.seed import seed_database
from lienthong.ops import history
from lienthong.ops.models import RolloutChange, RolloutSnapshot


def test_demo_seed_brings_the_history_and_every_provinces_path(db_url):
    report = seed_database(db_url, citizens=40, seed=5, ref_date=date(2026, 11, 30))
    assert "rollout_history" in report.timings
    with session_factory()() as s:
        snaps = [(x.as_of, x.kind) for x in s.scalars(select(RolloutSnapshot).order_by(RolloutSnapshot.as_of,
                                                                                       RolloutSnapshot.kind))]
        assert snaps == [(date(2024, 10, 2), "figures"), (date(2024, 10, 7), "figures"), (date(2024, 10, 7), "table")]
        changes = s.scalar(select(func.count()).select_from(RolloutChange))
        first, lines = history.paths(s, "judicial_vneid")
        assert first.as_of == date(2024, 10, 7) and len(lines) == 34
        for line in lines:  # every province: members' 2024 status -> merger -> today
            assert all(st for _, st, _ in line.members) and line.at_merger and line.today
    seed_database(db_url, citizens=40, seed=6, ref_date=date(2026, 11, 30))
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(RolloutSnapshot)) == 3
        assert s.scalar(select(func.count()).select_from(RolloutChange)) == changes
