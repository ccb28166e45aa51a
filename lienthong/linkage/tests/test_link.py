"""Linkage quality on labelled synthetic data, generic mode, mapping errors, backends."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from lienthong.linkage import link as L
from lienthong.linkage import noise


@pytest.fixture(scope="module")
def labelled():
    registry = noise.make_registry(5000, seed=11)
    dataset = noise.make_dataset(registry, 5000, seed=12, level="moderate")
    truth = noise.truth(dataset)
    return registry, dataset, truth


@pytest.fixture(scope="module")
def linked(labelled):
    registry, dataset, _ = labelled
    return L.link_dataset(registry, dataset, mapping=noise.DATASET_MAPPING, u_max_pairs=2e6)


def test_quality_on_5k_moderate_noise(labelled, linked):
    _, dataset, truth = labelled
    m = L.evaluate(linked.decisions, truth)
    print("\n5k x 5k moderate, without clerks:", m.line())
    print("5k x 5k moderate, perfect clerks: ", L.evaluate(linked.decisions, truth, review_as="best").line())
    # Measured: precision 1.000, recall 0.980, F1 0.990 (seeds 11/12). Floors set below that.
    assert m.precision >= 0.995
    assert m.recall >= 0.95
    assert m.f1 >= 0.97
    counts = linked.counts()
    assert sum(counts.values()) == dataset.num_rows
    outsiders = sum(1 for v in truth.values() if not v)
    # Most people who are not in the registry end up as no_match.
    assert counts["no_match"] >= 0.9 * outsiders


def test_decisions_are_one_per_record_with_margin(linked):
    d = linked.decisions.to_pylist()
    assert len({r["record_id"] for r in d}) == len(d)
    for r in d:
        if r["outcome"] == "accepted":
            assert r["match_probability"] >= 0.95
            assert r["margin"] is None or r["margin"] >= 2.0
        elif r["outcome"] == "review":
            assert r["match_probability"] >= 0.5
        if r["runner_up_id"] is not None:
            assert r["runner_up_id"] != r["personal_id"] and r["margin"] >= 0


def test_high_noise_still_precise():
    registry = noise.make_registry(2000, seed=21)
    dataset = noise.make_dataset(registry, 2000, seed=22, level="high")
    truth = noise.truth(dataset)
    result = L.link_dataset(registry, dataset, mapping=noise.DATASET_MAPPING, u_max_pairs=1e6)
    m = L.evaluate(result.decisions, truth)
    print("\n2k x 2k high noise:", m.line())
    assert m.precision >= 0.99 and m.f1 >= 0.9


def test_generic_mode_two_files_with_mapping(tmp_path):
    """Any two files: the 'registry' side has its own column names (here English, separate dates)."""
    registry = noise.make_registry(600, seed=31)
    dataset = noise.make_dataset(registry, 300, seed=32, level="low", match_share=0.7)
    rows = registry.to_pylist()
    other = pa.table({
        "key": [f"K{i}" for i in range(len(rows))],
        "name": [" ".join(p for p in (r["family_name"], r["middle_name"], r["given_name"]) if p) for r in rows],
        "yob": [str(r["birth_date"].year) for r in rows],
        "mob": [str(r["birth_date"].month) for r in rows],
        "dob_day": [str(r["birth_date"].day) for r in rows],
        "gender": ["male" if r["sex"] == "M" else "female" for r in rows],
        "doc": [r["personal_id"] for r in rows],
    })
    key_of = {r["personal_id"]: f"K{i}" for i, r in enumerate(rows)}
    reg_path, ds_path = tmp_path / "people.csv", tmp_path / "records.parquet"
    pacsv.write_csv(other, reg_path)
    import pyarrow.parquet as pq

    pq.write_table(dataset, ds_path)
    mapping_path = tmp_path / "mapping.json"
    mapping_path.write_text(json.dumps({
        "dataset": noise.DATASET_MAPPING,
        "registry": {"record_id": "key", "full_name": "name", "birth_year": "yob", "birth_month": "mob",
                     "birth_day": "dob_day", "sex": "gender", "id_number": "doc"},
        "thresholds": [0.9, 0.4],
    }))
    spec = L.load_mapping(mapping_path)
    result = L.link_dataset(str(reg_path), str(ds_path), mapping=spec["dataset"], registry_mapping=spec["registry"],
                            thresholds=tuple(spec["thresholds"]), u_max_pairs=2e5)
    truth = {rid: key_of.get(pid) for rid, pid in zip(dataset.column("so_ho_so").to_pylist(),
                                                      dataset.column("true_personal_id").to_pylist())}
    m = L.evaluate(result.decisions, truth)
    assert m.precision >= 0.99 and m.recall >= 0.9, m.line()


def test_flat_mapping_file_and_toml(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('record_id = "so_ho_so"\nfull_name = "ho_ten"\nbirth_date = "ngay_sinh"\nthresholds = [0.9, 0.3]\n')
    spec = L.load_mapping(p)
    assert spec["dataset"] == {"record_id": "so_ho_so", "full_name": "ho_ten", "birth_date": "ngay_sinh"}
    assert spec["thresholds"] == [0.9, 0.3]


def test_mapping_errors():
    cols = ["id", "ten", "ngay"]
    with pytest.raises(L.LinkageError, match="unknown mapping field"):
        L.check_mapping({"record_id": "id", "nickname": "ten"}, cols)
    with pytest.raises(L.LinkageError, match="not in the file"):
        L.check_mapping({"record_id": "id", "full_name": "ho_ten", "birth_date": "ngay"}, cols)
    with pytest.raises(L.LinkageError, match="record_id"):
        L.check_mapping({"full_name": "ten", "birth_date": "ngay"}, cols)
    with pytest.raises(L.LinkageError, match="birth_date"):
        L.check_mapping({"record_id": "id", "full_name": "ten"}, cols)


def test_duplicate_record_ids_are_refused():
    t = pa.table({"id": ["a", "a"], "ten": ["Lê Văn A", "Lê Văn B"], "ngay": ["1980", "1981"]})
    with pytest.raises(L.LinkageError, match="unique"):
        L.prepare_table(t, {"record_id": "id", "full_name": "ten", "birth_date": "ngay"})


def test_spark_backend_without_pyspark_is_a_clear_error():
    pytest.importorskip("splink")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover
        pytest.skip("pyspark is installed here")
    registry = noise.make_registry(50, seed=1)
    dataset = noise.make_dataset(registry, 20, seed=2)
    with pytest.raises(L.LinkageError, match="pyspark"):
        L.link_dataset(registry, dataset, mapping=noise.DATASET_MAPPING, backend="spark")
    with pytest.raises(L.LinkageError, match="unknown backend"):
        L.link_dataset(registry, dataset, mapping=noise.DATASET_MAPPING, backend="oracle")


def test_thresholds_validated():
    registry = noise.make_registry(20, seed=1)
    with pytest.raises(L.LinkageError, match="thresholds"):
        L.link_dataset(registry, registry, mapping=L.REGISTRY_MAPPING, thresholds=(0.5, 0.9))


def test_evaluate_counts():
    d = pa.table({"record_id": ["a", "b", "c", "d", "e"], "personal_id": ["1", "2", "9", None, "5"],
                  "outcome": ["accepted", "accepted", "review", "no_match", "review"]})
    truth = {"a": "1", "b": "3", "c": "9", "d": "4", "e": None}
    m = L.evaluate(d, truth)
    assert (m.true_positive, m.false_positive, m.false_negative, m.review) == (1, 1, 3, 2)
    best = L.evaluate(d, truth, review_as="best")
    assert (best.true_positive, best.false_positive, best.false_negative) == (2, 1, 2)
    assert best.precision == pytest.approx(2 / 3) and best.recall == pytest.approx(0.5)


def test_noise_generator_is_deterministic_and_labelled():
    registry = noise.make_registry(300, seed=5)
    a = noise.make_dataset(registry, 200, seed=6)
    b = noise.make_dataset(registry, 200, seed=6)
    assert a.equals(b)
    truth = a.column("true_personal_id").to_pylist()
    pids = set(registry.column("personal_id").to_pylist())
    assert sum(1 for t in truth if t) == 170
    assert all(t in pids for t in truth if t)
    assert registry.num_rows == 300 and len(pids) == 300


def test_settings_without_the_spark_udf_jar_use_builtin_levenshtein():
    """A Spark session without Splink's jar has no damerau_levenshtein: the settings fall back."""
    import json as _json

    with_jar = _json.dumps(L._settings(0.001).get_settings("spark").as_dict())
    without = _json.dumps(L._settings(0.001, damerau=False).get_settings("spark").as_dict())
    assert "damerau_levenshtein(" in with_jar
    assert "damerau_levenshtein(" not in without and "levenshtein(" in without


def test_backend_errors_with_pyspark_hidden(monkeypatch):
    """The missing-pyspark message, also where pyspark is installed (import made to fail)."""
    import sys

    registry = noise.make_registry(50, seed=1)
    dataset = noise.make_dataset(registry, 20, seed=2)
    with pytest.raises(L.LinkageError, match="unknown backend"):
        L.link_dataset(registry, dataset, mapping=noise.DATASET_MAPPING, backend="oracle")
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(L.LinkageError, match="pyspark"):
        L.link_dataset(registry, dataset, mapping=noise.DATASET_MAPPING, backend="spark")
