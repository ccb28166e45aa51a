"""Probabilistic linkage of an external register to the population registry (Splink).

Pipeline (:func:`link_dataset`):

1. **Prepare** both sides into one schema with the Vietnamese-aware normalisers of
   :mod:`lienthong.linkage.prepare` (folded and OCR-skeleton names split into family / middle /
   given, partial birth dates with their day/month-swapped reading, personal ID / CMND, current
   34-set province codes of the birth place and residence).
2. **Block**: candidate pairs are the union of these rules (each keeps the pair count near-linear):
   same personal ID; same CMND; birth year + family skeleton + given skeleton with compatible
   months (catches diacritics, OCR damage, swapped day/month and partial dates); full birth date +
   given skeleton; full birth
   date + family skeleton; birth day and month + both skeletons (year typos). A rule on birth year +
   given name alone gives ~250 M pairs at 1 M x 1 M and is deliberately not used.
3. **Model** (Fellegi-Sunter): comparisons on family / middle / given name (exact with
   term-frequency adjustment, skeleton, one edit), birth date (exact, day/month swap, consistent
   partial date, year typo, same year-month, same year, within 2 years), sex, identity number
   (personal ID, CMND, one-digit typo) and province. u by random sampling, m by EM on three
   blocking rules, so every comparison is trained on pairs not selected by its own columns.
4. **Predict** and **resolve one-to-one**: for each external record the best registry candidate
   and the runner-up. ``accepted`` when the match probability reaches the accept threshold and the
   match weight beats the runner-up by ``min_margin``; ``review`` when it reaches the review
   threshold (or is accepted-grade but ambiguous); otherwise ``no_match``. Several external
   records may link to the same person (a person may have several judgments).

Backends: ``duckdb`` (default, one machine) or ``spark`` (Splink's ``SparkAPI``; needs the ``spark``
extra, i.e. ``pyspark>=3.5``, and Java 17+). The same settings, blocking rules and SQL run on Spark
unchanged, the one-to-one resolution included; only the decisions (one row per dataset record) are
collected. The one-edit name / ID levels use Splink's Scala ``damerau_levenshtein`` UDF, shipped as a
jar with Splink and put on the classpath by :func:`spark_session`; in a session started without the
jar they fall back to Spark's built-in ``levenshtein`` (a transposition then counts as two edits,
so "Nguyen"/"Ngyuen" loses that level; the skeleton level still catches most OCR damage). Term
frequencies, EM and u sampling are computed by Spark too. Measured: on 1 k x 1 k the Spark run
makes exactly the DuckDB decisions. Local cost: ~5 s to start the JVM plus ~25-30 s of fixed
per-run overhead (hundreds of small Spark jobs for training); see :func:`link_dataset` and
``bench/linkage.py --backend spark`` for sizes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lienthong.linkage import prepare as P

DATASET = "dataset"
REGISTRY = "registry"

CANONICAL_FIELDS = (
    "record_id", "full_name", "family_name", "middle_name", "given_name", "birth_date", "birth_year",
    "birth_month", "birth_day", "sex", "id_number", "personal_id", "cmnd", "birth_place", "residence_place",
)

# Columns of the registry export (:mod:`lienthong.linkage.registry`, :func:`noise.make_registry`).
REGISTRY_MAPPING: dict[str, str] = {
    "record_id": "personal_id", "family_name": "family_name", "middle_name": "middle_name",
    "given_name": "given_name", "birth_date": "birth_date", "sex": "sex", "personal_id": "personal_id",
    "cmnd": "cmnd", "birth_place": "birth_place_code", "residence_place": "residence_province",
}

PREPARED_SCHEMA = pa.schema([
    ("unique_id", pa.string()), ("family_f", pa.string()), ("middle_f", pa.string()), ("given_f", pa.string()),
    ("family_sk", pa.string()), ("middle_sk", pa.string()), ("given_sk", pa.string()),
    ("dob", pa.string()), ("dob_swap", pa.string()), ("birth_year", pa.int32()), ("birth_month", pa.int32()),
    ("birth_day", pa.int32()), ("sex", pa.string()), ("pid", pa.string()), ("cmnd", pa.string()),
    ("prov_birth", pa.int32()), ("prov_res", pa.int32()),
])


DECISIONS_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("personal_id", pa.string()), ("match_probability", pa.float64()),
    ("match_weight", pa.float64()), ("runner_up_id", pa.string()), ("runner_up_probability", pa.float64()),
    ("margin", pa.float64()), ("outcome", pa.string()),
])


class LinkageError(ValueError):
    """Bad input (mapping, file, backend) for a linkage run."""


# --- mapping --------------------------------------------------------------------------------------


def check_mapping(mapping: dict[str, str], columns: list[str], side: str = DATASET) -> dict[str, str]:
    """Validate a canonical-field -> column mapping against a table's columns."""
    unknown = sorted(set(mapping) - set(CANONICAL_FIELDS))
    if unknown:
        raise LinkageError(f"{side}: unknown mapping field(s) {unknown}; allowed: {list(CANONICAL_FIELDS)}")
    missing = sorted({c for c in mapping.values() if c not in columns})
    if missing:
        raise LinkageError(f"{side}: column(s) {missing} not in the file (columns: {columns})")
    if "record_id" not in mapping:
        raise LinkageError(f"{side}: the mapping needs 'record_id' (a unique record key)")
    if "full_name" not in mapping and "given_name" not in mapping:
        raise LinkageError(f"{side}: the mapping needs 'full_name' or 'family_name'/'given_name'")
    if not any(k in mapping for k in ("birth_date", "birth_year")):
        raise LinkageError(f"{side}: the mapping needs 'birth_date' or 'birth_year'")
    return dict(mapping)


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read a mapping file (JSON or TOML).

    Either a flat ``{canonical: column}`` object (the dataset side) or sections ``dataset`` and
    ``registry`` (generic mode: two arbitrary files), plus optional ``thresholds = [accept, review]``.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".toml":
        import tomllib

        data = tomllib.loads(text)
    else:
        import json

        data = json.loads(text)
    if not isinstance(data, dict):
        raise LinkageError("the mapping file must hold an object")
    if "dataset" not in data:
        data = {"dataset": {k: v for k, v in data.items() if k != "thresholds"}, "thresholds": data.get("thresholds")}
    return data


def read_table(path: str | Path) -> pa.Table:
    """A CSV (every column read as text: ID numbers keep their leading zeros) or Parquet file."""
    p = Path(path)
    if not p.exists():
        raise LinkageError(f"file not found: {p}")
    con = duckdb.connect()
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return con.sql(f"SELECT * FROM read_parquet('{_sql_str(str(p))}')").to_arrow_table()
        if p.suffix.lower() in (".csv", ".txt", ".tsv"):
            return con.sql(f"SELECT * FROM read_csv('{_sql_str(str(p))}', all_varchar=true, header=true)").to_arrow_table()
    finally:
        con.close()
    raise LinkageError(f"unsupported file type {p.suffix!r} (use .csv or .parquet)")


def _sql_str(s: str) -> str:
    return s.replace("'", "''")


# --- preparation ----------------------------------------------------------------------------------


def _col(table: pa.Table, mapping: dict[str, str], key: str) -> list | None:
    name = mapping.get(key)
    return table.column(name).to_pylist() if name else None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def prepare_table(table: pa.Table, mapping: dict[str, str]) -> pa.Table:
    """The normalised linkage columns (:data:`PREPARED_SCHEMA`) of one side."""
    n = table.num_rows
    get = lambda key: _col(table, mapping, key)  # noqa: E731
    ids = get("record_id")
    assert ids is not None
    full, fam, mid, giv = get("full_name"), get("family_name"), get("middle_name"), get("given_name")
    bdate, byear, bmonth, bday = get("birth_date"), get("birth_year"), get("birth_month"), get("birth_day")
    sex, idn, pid, cmnd = get("sex"), get("id_number"), get("personal_id"), get("cmnd")
    bplace, rplace = get("birth_place"), get("residence_place")
    out: dict[str, list] = {f.name: [] for f in PREPARED_SCHEMA}
    skel, fold = P.skeleton, P.fold
    for i in range(n):
        if full is not None and (fam is None or not fam[i]):
            parts = P.split_name(_text(full[i]))
            f, m, g = parts.family, parts.middle, parts.given
        else:
            f = _text(fam[i]) if fam else ""
            m = _text(mid[i]) if mid else ""
            g = _text(giv[i]) if giv else ""
        if bdate is not None:
            d = P.parse_date(bdate[i])
        else:
            d = P.PartialDate(_int(byear[i]) if byear else None, _int(bmonth[i]) if bmonth else None,
                              _int(bday[i]) if bday else None)
            if d.year is None or (d.month is not None and not 1 <= d.month <= 12):
                d = P.PartialDate(d.year)
        full_d = d.as_date()
        swapped = P.swap_day_month(d)
        p_id = c_id = None
        for value in (idn[i] if idn else None, pid[i] if pid else None, cmnd[i] if cmnd else None):
            num = P.normalise_id(value)
            if num.kind == "personal_id" and p_id is None:
                p_id = num.number
            elif num.kind in ("cmnd9", "cmnd12") and c_id is None:
                c_id = num.number
        fam_f, giv_f, mid_f = fold(f), fold(g), fold(m)
        out["unique_id"].append(_text(ids[i]).strip())
        out["family_f"].append(fam_f or None)
        out["middle_f"].append(mid_f or None)
        out["given_f"].append(giv_f or None)
        out["family_sk"].append(skel(f) or None)
        out["middle_sk"].append(skel(m) or None)
        out["given_sk"].append(skel(g) or None)
        out["dob"].append(full_d.isoformat() if full_d else None)
        out["dob_swap"].append(swapped.as_date().isoformat() if swapped else None)  # type: ignore[union-attr]
        out["birth_year"].append(d.year)
        out["birth_month"].append(d.month)
        out["birth_day"].append(d.day)
        out["sex"].append(P.normalise_sex(sex[i]) if sex else None)
        out["pid"].append(p_id)
        out["cmnd"].append(c_id)
        out["prov_birth"].append(P.province_of(_text(bplace[i])) if bplace else None)
        out["prov_res"].append(P.province_of(_text(rplace[i])) if rplace else None)
    result = pa.table(out, schema=PREPARED_SCHEMA)
    uids = out["unique_id"]
    if len(set(uids)) != len(uids) or "" in uids:
        raise LinkageError("record_id values must be present and unique")
    return result


# --- the Splink model -----------------------------------------------------------------------------


def _settings(prior: float, damerau: bool = True):
    """The Splink settings. ``damerau=False``: one-edit levels use plain Levenshtein (Spark built-in)
    instead of Damerau-Levenshtein, for a Spark session without Splink's UDF jar."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    one_edit = cll.DamerauLevenshteinLevel if damerau else cll.LevenshteinLevel

    def name(label: str, f: str, sk: str, tf: bool = True):
        return cl.CustomComparison(output_column_name=label, comparison_levels=[
            cll.NullLevel(f),
            cll.ExactMatchLevel(f, term_frequency_adjustments=tf),
            cll.ExactMatchLevel(sk).configure(label_for_charts="OCR skeleton equal"),
            one_edit(f, 1),
            cll.ElseLevel(),
        ])

    dob = cl.CustomComparison(output_column_name="birth_date", comparison_levels=[
        cll.CustomLevel("birth_year_l IS NULL OR birth_year_r IS NULL").configure(is_null_level=True),
        cll.CustomLevel("dob_l = dob_r", label_for_charts="exact"),
        cll.CustomLevel("dob_l = dob_swap_r OR dob_swap_l = dob_r", label_for_charts="day/month swapped"),
        cll.CustomLevel("(dob_l IS NULL OR dob_r IS NULL) AND birth_year_l = birth_year_r AND "
                        "(birth_month_l IS NULL OR birth_month_r IS NULL OR birth_month_l = birth_month_r)",
                        label_for_charts="consistent partial date"),
        cll.CustomLevel("birth_month_l = birth_month_r AND birth_day_l = birth_day_r AND "
                        "abs(birth_year_l - birth_year_r) <= 1", label_for_charts="year off by one"),
        cll.CustomLevel("birth_year_l = birth_year_r AND birth_month_l = birth_month_r",
                        label_for_charts="same month"),
        cll.CustomLevel("birth_year_l = birth_year_r", label_for_charts="same year"),
        cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 2", label_for_charts="within 2 years"),
        cll.ElseLevel(),
    ])
    ids = cl.CustomComparison(output_column_name="id_number", comparison_levels=[
        cll.CustomLevel("NOT ((pid_l IS NOT NULL AND pid_r IS NOT NULL) OR "
                        "(cmnd_l IS NOT NULL AND cmnd_r IS NOT NULL))").configure(is_null_level=True),
        cll.CustomLevel("pid_l = pid_r", label_for_charts="personal ID equal"),
        cll.CustomLevel("cmnd_l = cmnd_r", label_for_charts="old CMND equal"),
        one_edit("pid", 1).configure(label_for_charts="personal ID one digit off"),
        cll.ElseLevel(),
    ])
    place = cl.CustomComparison(output_column_name="province", comparison_levels=[
        cll.CustomLevel("NOT ((prov_birth_l IS NOT NULL AND prov_birth_r IS NOT NULL) OR "
                        "(prov_res_l IS NOT NULL AND prov_res_r IS NOT NULL))").configure(is_null_level=True),
        cll.CustomLevel("prov_birth_l = prov_birth_r", label_for_charts="birth province equal"),
        cll.CustomLevel("prov_res_l = prov_res_r", label_for_charts="residence province equal"),
        cll.ElseLevel(),
    ])
    return SettingsCreator(
        link_type="link_only",
        comparisons=[
            name("family_name", "family_f", "family_sk"),
            name("middle_name", "middle_f", "middle_sk"),
            name("given_name", "given_f", "given_sk"),
            dob, cl.ExactMatch("sex"), ids, place,
        ],
        blocking_rules_to_generate_predictions=BLOCKING_RULES(),
        probability_two_random_records_match=prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
    )


def BLOCKING_RULES():  # noqa: N802 - a constant, built lazily (splink import is slow)
    from splink import block_on

    return [
        block_on("pid"),
        block_on("cmnd"),
        # Same year and both skeletons, with compatible months (either date partial, same month, or
        # day/month swapped): without the month condition the "Nguyễn" blocks dominate at 1 M rows.
        "l.birth_year = r.birth_year AND l.family_sk = r.family_sk AND l.given_sk = r.given_sk AND "
        "(l.birth_month IS NULL OR r.birth_month IS NULL "
        "OR l.birth_month = r.birth_month OR l.birth_month = r.birth_day OR l.birth_day = r.birth_month)",
        block_on("dob", "given_sk"),
        block_on("dob", "family_sk"),
        block_on("birth_month", "birth_day", "family_sk", "given_sk"),
    ]


SPARK_MASTER_ENV = "LIENTHONG_SPARK_MASTER"
SPARK_CHECKPOINT_ENV = "LIENTHONG_SPARK_CHECKPOINT_DIR"


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise LinkageError(
            "backend 'spark' needs pyspark, which is not installed here: install the Spark extra "
            "(pip install 'lienthong[spark]', i.e. pyspark>=3.5, plus a Java 17+ runtime) or use backend='duckdb'"
        ) from None


def spark_session(master: str | None = None, *, driver_memory: str = "2g", shuffle_partitions: int | None = None):
    """A new (or the already running) ``SparkSession`` set up for Splink.

    ``master`` defaults to ``$LIENTHONG_SPARK_MASTER``, else ``local[*]`` (all cores of this machine);
    pass e.g. ``spark://host:7077`` or ``yarn`` to use a cluster. The session loads Splink's Scala
    UDF jar (``damerau_levenshtein``, ``jaro_winkler``... as Spark SQL functions), enables Arrow
    transfers and turns the web UI off. ``shuffle_partitions`` defaults to 4 x the local cores for a
    local master (Spark's 200 makes small runs slow) and to Spark's default otherwise.

    Note: when a SparkSession already runs in this process, Spark returns it and ignores these
    settings (``spark.jars`` cannot be added afterwards): :func:`link_dataset` then falls back to
    Spark's built-in comparisons where the jar is missing.
    """
    _require_pyspark()
    import os

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    master = master or os.environ.get(SPARK_MASTER_ENV) or "local[*]"
    local = master.startswith("local")
    if shuffle_partitions is None and local:
        shuffle_partitions = 4 * (os.cpu_count() or 2)
    builder = (SparkSession.builder.master(master).appName("lienthong-linkage")
               .config("spark.jars", similarity_jar_location())
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.adaptive.enabled", "true"))
    if local:  # on a cluster the driver memory is the deployment's business (spark-submit / defaults)
        builder = builder.config("spark.driver.memory", driver_memory)
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")  # Splink's empty-Parquet reads and big local tasks log WARN
    return session


class _DuckRun:
    """The DuckDB side of one :func:`link_dataset` call (in process). Same interface as _SparkRun."""

    u_chunks = 10  # Splink samples the u pairs in chunks to bound DuckDB's memory
    has_udfs = True  # damerau_levenshtein is built in

    def db_api(self):
        from splink import DuckDBAPI

        self.api = DuckDBAPI()
        return self.api

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.api.duckdb_con.register(name, table)

    def arrow(self, sql: str) -> pa.Table:
        return self.api.duckdb_con.sql(sql).to_arrow_table()

    def scalar(self, sql: str):
        return self.api.duckdb_con.execute(sql).fetchall()[0][0]

    def close(self) -> None:
        pass


class _SparkRun:
    """The Spark side of one :func:`link_dataset` call: session, checkpoint dir and clean-up."""

    # On Spark every u-sampling chunk is a separate job (~3 s of planning and code generation each)
    # and Spark spills by itself: one chunk.
    u_chunks = 1

    def __init__(self, session, master: str | None, checkpoint_dir: str | None):
        import os
        import tempfile

        _require_pyspark()
        from pyspark.sql import SparkSession

        self.created = False
        self.tmp: str | None = None
        if session is None:
            session = SparkSession.getActiveSession()
            if session is None:
                session = spark_session(master)
                self.created = True
        self.spark = session
        sc = session.sparkContext
        self.local = sc.master.startswith("local")
        # Splink breaks the lineage of its big intermediate tables (blocked pairs, comparison vectors,
        # predictions) by writing them as Parquet under the checkpoint directory. On a cluster it must
        # be shared storage (HDFS, S3...); locally a temporary directory, removed afterwards, is enough.
        checkpoint_dir = checkpoint_dir or os.environ.get(SPARK_CHECKPOINT_ENV)
        if checkpoint_dir:
            sc.setCheckpointDir(checkpoint_dir)
        if sc._jsc.sc().getCheckpointDir().isEmpty():
            if self.local:
                self.tmp = tempfile.mkdtemp(prefix="lienthong-spark-")
                sc.setCheckpointDir(self.tmp)
                self.break_lineage = "parquet"
            else:
                # No shared storage known: keep intermediate tables cached (memory, spilling to disk).
                self.break_lineage = "persist"
        else:
            self.break_lineage = "parquet"

    def db_api(self):
        import logging

        from splink import SparkAPI

        api = SparkAPI(spark_session=self.spark, break_lineage_method=self.break_lineage)
        self.has_udfs = bool(self.spark.catalog.functionExists("damerau_levenshtein"))
        if not self.has_udfs:
            logging.getLogger(__name__).warning(
                "Splink's Spark UDF jar is not loaded in this SparkSession: one-edit name/ID levels use "
                "Spark's built-in levenshtein instead of damerau_levenshtein (transpositions count as 2 edits)")
        return api

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def arrow(self, sql: str) -> pa.Table:  # computed on the cluster; only the result comes back
        return self.spark.sql(sql).toArrow()

    def scalar(self, sql: str):
        return self.spark.sql(sql).collect()[0][0]

    def close(self) -> None:
        import shutil

        try:
            if self.created:
                self.spark.stop()
            else:  # a session we were given: drop (and uncache) only our temporary views
                for table in self.spark.catalog.listTables():
                    if table.isTemporary and (table.name.startswith("__splink") or table.name == "__ds_ids"):
                        try:
                            self.spark.catalog.uncacheTable(table.name)
                        except Exception:  # noqa: BLE001 - not cached / already gone
                            pass
                        self.spark.catalog.dropTempView(table.name)
        finally:
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)


# --- results --------------------------------------------------------------------------------------


@dataclass
class LinkResult:
    """Per external record: best candidate, runner-up and outcome (an Arrow table), plus run facts."""

    decisions: pa.Table  # record_id, personal_id, match_probability, match_weight, runner_up_id,
    #                      runner_up_probability, margin, outcome
    thresholds: tuple[float, float]
    min_margin: float
    timings: dict[str, float] = field(default_factory=dict)
    pairs_scored: int = 0
    model: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {"accepted": 0, "review": 0, "no_match": 0}
        for outcome in self.decisions.column("outcome").to_pylist():
            counts[outcome] += 1
        return counts


Progress = Callable[[str], None]


def link_dataset(registry: pa.Table | str | Path, dataset: pa.Table | str | Path, *, mapping: dict[str, str],
                 registry_mapping: dict[str, str] | None = None, backend: str = "duckdb",
                 thresholds: tuple[float, float] = (0.95, 0.5), min_margin: float = 2.0,
                 expected_match_share: float = 0.8, u_max_pairs: float = 5e6, em_max_pairs: float | None = 2e6,
                 seed: int = 42, spark_session=None, spark_master: str | None = None,
                 spark_checkpoint_dir: str | None = None, progress: Progress | None = None) -> LinkResult:
    """Link ``dataset`` (external register) to ``registry`` (population registry or any file).

    ``registry`` / ``dataset`` are Arrow tables or CSV/Parquet paths. ``mapping`` maps canonical
    fields (:data:`CANONICAL_FIELDS`) to the dataset's columns; ``registry_mapping`` does the same for
    the registry (default: the registry export columns, :data:`REGISTRY_MAPPING`).
    ``thresholds = (accept, review)`` are match probabilities; ``min_margin`` is the least match-weight
    lead over the runner-up for an automatic accept.

    ``backend="spark"`` runs blocking, training, prediction and the one-to-one resolution on Spark
    and collects only the decisions (one row per dataset record) to the driver. ``spark_session``:
    use this session (left running); otherwise the active one, else a new one is created with
    :func:`spark_session` (master ``spark_master`` / ``$LIENTHONG_SPARK_MASTER`` / ``local[*]``) and
    stopped at the end. ``spark_checkpoint_dir`` (or ``$LIENTHONG_SPARK_CHECKPOINT_DIR``): where
    Splink writes its intermediate Parquet tables (shared storage on a cluster; a temporary
    directory for a local master). Preparation still runs in this Python process (~1 KB of RAM per
    record on both sides, ~2 s per 100 k records), the prepared tables are shipped to Spark as Arrow.
    Expect ~6 s of JVM start-up and a fixed ~15-30 s of Spark job overhead locally: for one machine
    DuckDB is faster at every size it can hold; Spark is for registries that outgrow it.
    """
    accept, review = thresholds
    if not 0 < review <= accept <= 1:
        raise LinkageError("thresholds must satisfy 0 < review <= accept <= 1")
    if backend not in ("duckdb", "spark"):
        raise LinkageError(f"unknown backend {backend!r} (duckdb or spark)")
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    if not isinstance(registry, pa.Table):
        registry = read_table(registry)
    if not isinstance(dataset, pa.Table):
        dataset = read_table(dataset)
    reg_map = check_mapping(registry_mapping or REGISTRY_MAPPING, registry.column_names, REGISTRY)
    ds_map = check_mapping(mapping, dataset.column_names, DATASET)
    timings["read"] = time.perf_counter() - t

    say("Chuẩn hóa dữ liệu")
    t = time.perf_counter()
    reg = prepare_table(registry, reg_map)
    ds = prepare_table(dataset, ds_map)
    timings["prepare"] = time.perf_counter() - t
    if reg.num_rows == 0 or ds.num_rows == 0:
        raise LinkageError("both the registry and the dataset must contain records")

    run = _SparkRun(spark_session, spark_master, spark_checkpoint_dir) if backend == "spark" else _DuckRun()
    try:
        return _link_prepared(reg, ds, run, accept=accept, review=review, min_margin=min_margin,
                              expected_match_share=expected_match_share, u_max_pairs=u_max_pairs,
                              em_max_pairs=em_max_pairs, seed=seed, say=say, timings=timings)
    finally:
        run.close()


def _link_prepared(reg: pa.Table, ds: pa.Table, run: _DuckRun | _SparkRun, *, accept: float,
                   review: float, min_margin: float, expected_match_share: float, u_max_pairs: float,
                   em_max_pairs: float | None, seed: int, say: Progress, timings: dict[str, float]) -> LinkResult:
    import logging

    from splink import Linker, block_on

    say("Huấn luyện mô hình (u, EM)")
    t = time.perf_counter()
    db_api = run.db_api()
    sdf_reg = db_api.register(reg, dataset_display_name=REGISTRY)
    sdf_ds = db_api.register(ds, dataset_display_name=DATASET)
    prior = min(0.5, max(1e-9, expected_match_share / reg.num_rows))
    linker = Linker([sdf_reg, sdf_ds], _settings(prior, run.has_udfs), log_level=None)
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed, num_chunks=run.u_chunks)
    for rule in (block_on("dob", "given_sk"), block_on("dob", "family_sk"),
                 block_on("birth_year", "family_sk", "given_sk")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=em_max_pairs)
    timings["train"] = time.perf_counter() - t

    say("Chấm điểm các cặp ứng viên")
    t = time.perf_counter()
    floor = min(review, 0.001)
    pred = linker.inference.predict(threshold_match_probability=floor)
    timings["predict"] = time.perf_counter() - t

    say("Chọn ứng viên tốt nhất")
    t = time.perf_counter()
    source = pred.physical_name
    run.register_arrow("__ds_ids", ds.select(["unique_id"]))
    sql = f"""
        WITH p AS (
            SELECT CASE WHEN source_dataset_l = '{DATASET}' THEN unique_id_l ELSE unique_id_r END AS record_id,
                   CASE WHEN source_dataset_l = '{DATASET}' THEN unique_id_r ELSE unique_id_l END AS personal_id,
                   match_probability, match_weight
            FROM {source}
        ), r AS (
            SELECT *, row_number() OVER (PARTITION BY record_id ORDER BY match_weight DESC, personal_id) AS rk
            FROM p
        ), best AS (
            SELECT a.record_id, a.personal_id, a.match_probability, a.match_weight,
                   b.personal_id AS runner_up_id, b.match_probability AS runner_up_probability,
                   a.match_weight - b.match_weight AS margin
            FROM r a LEFT JOIN r b ON a.record_id = b.record_id AND b.rk = 2
            WHERE a.rk = 1
        )
        SELECT d.unique_id AS record_id, best.personal_id, best.match_probability, best.match_weight,
               best.runner_up_id, best.runner_up_probability, best.margin,
               CASE
                 WHEN best.match_probability >= {accept} AND (best.margin IS NULL OR best.margin >= {min_margin})
                   THEN 'accepted'
                 WHEN best.match_probability >= {review} THEN 'review'
                 ELSE 'no_match'
               END AS outcome
        FROM __ds_ids d LEFT JOIN best ON best.record_id = d.unique_id
        ORDER BY d.unique_id
    """
    decisions = run.arrow(sql).cast(DECISIONS_SCHEMA)  # one row per dataset record
    pairs = run.scalar(f"SELECT count(*) FROM {source}")
    timings["resolve"] = time.perf_counter() - t
    model = linker.misc.save_model_to_json() if hasattr(linker.misc, "save_model_to_json") else {}
    return LinkResult(decisions, (accept, review), min_margin, timings, int(pairs), model)


# --- evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    true_positive: int
    false_positive: int
    false_negative: int
    review: int
    precision: float
    recall: float
    f1: float

    def line(self) -> str:
        return (f"precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}  "
                f"(TP {self.true_positive}, FP {self.false_positive}, FN {self.false_negative}, review {self.review})")


def evaluate(decisions: pa.Table, truth: dict[str, str | None], *, review_as: str = "none") -> Metrics:
    """Precision, recall and F1 of the links against the ground truth.

    ``review_as="none"``: review items count as not linked (what happens without clerks);
    ``"best"``: they count as linked to their best candidate (perfect clerks would accept right
    ones and reject wrong ones, so only correct ones are counted as links and wrong ones as misses).
    """
    tp = fp = fn = rv = 0
    ids = decisions.column("record_id").to_pylist()
    pids = decisions.column("personal_id").to_pylist()
    outcomes = decisions.column("outcome").to_pylist()
    for rid, pid, outcome in zip(ids, pids, outcomes):
        true = truth.get(rid) or None
        if outcome == "review":
            rv += 1
        linked = outcome == "accepted" or (outcome == "review" and review_as == "best" and pid == true)
        if linked:
            if pid == true:
                tp += 1
            else:
                fp += 1
                if true:
                    fn += 1
        elif true:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(tp, fp, fn, rv, precision, recall, f1)
