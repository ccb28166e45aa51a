"""lienthong.db.UTCDateTime: points in time are written as UTC and read back aware, on both databases."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from lienthong.db import UTCDateTime, get_engine

VN = timezone(timedelta(hours=7))


def test_round_trip_is_aware_utc(db_url):
    meta = MetaData()
    t = Table("t_utc_datetime", meta, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    engine = get_engine(db_url)
    meta.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(t), [
                {"id": 1, "at": datetime(2026, 3, 1, 8, 30, tzinfo=VN)},  # Vietnam time
                {"id": 2, "at": datetime(2026, 3, 1, 1, 30)},  # naive: taken as UTC
                {"id": 3, "at": None},
            ])
        with engine.connect() as conn:
            rows = dict(conn.execute(select(t.c.id, t.c.at)).all())
            assert rows[1] == rows[2] == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
            assert rows[1].utcoffset() == rows[2].utcoffset() == timedelta(0)
            assert rows[3] is None
            # comparisons with aware and naive (= UTC) parameters agree
            assert conn.execute(select(t.c.id).where(t.c.at < datetime(2026, 3, 1, 8, 30, tzinfo=VN))).all() == []
            assert sorted(conn.execute(select(t.c.id).where(t.c.at <= datetime(2026, 3, 1, 1, 30))).scalars()) == [1, 2]
    finally:
        meta.drop_all(engine)
