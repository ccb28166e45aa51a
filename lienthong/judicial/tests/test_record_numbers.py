"""Record numbers: per agency and year, gap-free, concurrency-safe on PostgreSQL."""

import threading

from sqlalchemy import select

from lienthong.db import unit_of_work
from lienthong.judicial import models as m
from lienthong.judicial.records import agency_codes, issuing_agency
from lienthong.judicial.rules.procedure import format_record_number, parse_record_number
from lienthong.judicial.service import next_sequence


def test_sequence_per_agency_and_year_and_rollback_leaves_no_gap(db_url):
    with unit_of_work() as s:
        assert [next_sequence(s, "01CA", 2026) for _ in range(3)] == [1, 2, 3]
        assert next_sequence(s, "79CA", 2026) == 1
        assert next_sequence(s, "01CA", 2027) == 1  # restarts every year
    try:
        with unit_of_work() as s:
            assert next_sequence(s, "01CA", 2026) == 4
            raise RuntimeError("certificate not issued")
    except RuntimeError:
        pass
    with unit_of_work() as s:
        assert next_sequence(s, "01CA", 2026) == 4  # the rolled-back number is reused: no gap


def test_agency_codes_fit_the_official_pattern():
    codes = agency_codes()
    assert len(codes) == 34 and issuing_agency(1).name == "Công an Thành phố Hà Nội"
    for code in codes:
        text = format_record_number(code, 2026, 7, agency_codes=codes)
        assert parse_record_number(text, agency_codes=codes).agency_code == code


def test_concurrent_issuers_get_distinct_consecutive_numbers(pg_url):
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker():
        try:
            start.wait()
            for _ in range(10):
                with unit_of_work() as s:
                    n = next_sequence(s, "01CA", 2026)
                with lock:
                    got.append(n)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == list(range(1, 81))
    with unit_of_work() as s:
        assert s.scalars(select(m.RecordSequence.last_value)).one() == 80
