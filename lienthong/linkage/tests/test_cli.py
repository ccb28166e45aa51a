"""``lienthong link``: generic mode on two files, output file with linked IDs, metrics."""

from __future__ import annotations

import json

import pyarrow.csv as pacsv
from typer.testing import CliRunner

from lienthong.linkage import noise


def test_link_command_generic_mode(tmp_path):
    from lienthong.cli import app

    registry = noise.make_registry(500, seed=51)
    dataset = noise.make_dataset(registry, 200, seed=52, level="moderate")
    reg_path, ds_path, out = tmp_path / "dan_cu.csv", tmp_path / "lltp.csv", tmp_path / "ket_qua.csv"
    pacsv.write_csv(registry, reg_path)
    pacsv.write_csv(dataset, ds_path)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({k: v for k, v in noise.DATASET_MAPPING.items() if k != "birth_place"}))
    result = CliRunner().invoke(app, [
        "link", str(ds_path), "--mapping", str(mapping), "--map", "birth_place=noi_sinh",
        "--registry", str(reg_path), "--no-db", "--output", str(out), "--truth-column", "true_personal_id",
    ])
    assert result.exit_code == 0, result.output
    assert "Tự động chấp nhận" in result.output and "precision" in result.output
    linked = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(
        column_types={"linked_personal_id": "string", "true_personal_id": "string", "so_giay_to": "string"}))
    rows = linked.to_pylist()
    assert len(rows) == 200
    accepted = [r for r in rows if r["outcome"] == "accepted"]
    assert len(accepted) > 120
    assert sum(r["linked_personal_id"] == r["true_personal_id"] for r in accepted) >= 0.99 * len(accepted)


def test_link_command_errors(tmp_path):
    from lienthong.cli import app

    ds = tmp_path / "x.csv"
    ds.write_text("id,ten\n1,Lê Văn A\n")
    r = CliRunner().invoke(app, ["link", str(ds), "--map", "record_id=id", "--map", "full_name=ten",
                                 "--registry", str(ds), "--no-db"])
    assert r.exit_code == 2 and "birth_date" in r.output
    r = CliRunner().invoke(app, ["link", str(ds), "--map", "bad", "--no-db", "--registry", str(ds)])
    assert r.exit_code != 0
