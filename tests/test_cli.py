"""The command line, end to end on a scratch SQLite database."""

import sqlite3

from typer.testing import CliRunner

from lienthong.cli import app

runner = CliRunner()


def test_seed_then_audit_verify_detects_tampering(tmp_path, monkeypatch):
    from lienthong.config import reset_settings_cache
    from lienthong.identity.keys import secret_key

    db = tmp_path / "cli.sqlite3"
    url = f"sqlite:///{db}"
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LIENTHONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("LIENTHONG_DATABASE_URL", url)  # restored after the test (the CLI sets it)
    reset_settings_cache()
    secret_key.cache_clear()

    r = runner.invoke(app, ["seed", "--citizens", "300", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert "citizens" in r.output and "300" in r.output

    r = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert "waiting for the sequencer" in r.output
    r = runner.invoke(app, ["audit", "sequence", "--database-url", url])
    assert r.exit_code == 0 and "sequenced" in r.output, r.output

    r = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert "OK" in r.output and "latest signed checkpoint" in r.output
    note = "lienthong/audit\n" + r.output.split("lienthong/audit\n", 1)[1]
    kept = tmp_path / "checkpoint.txt"  # kept outside the database
    kept.write_text(note, encoding="utf-8")
    size = int(note.split("\n")[1])
    root = r.output.split("root: ")[1].split()[0]

    for external in (str(kept), f"{size}:{root}"):
        r = runner.invoke(app, ["audit", "verify", "--database-url", url, "--checkpoint", external])
        assert r.exit_code == 0 and "consistent with the log" in r.output, r.output
    r = runner.invoke(app, ["audit", "verify", "--database-url", url, "--entry", "1", "--checkpoint", str(kept)])
    assert r.exit_code == 0 and "included" in r.output and "NOT" not in r.output, r.output
    r = runner.invoke(app, ["audit", "checkpoint", "--database-url", url])
    assert r.exit_code == 0 and "verifier key: lienthong/audit+" in r.output and note in r.output

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET purpose = 'sửa lén' WHERE seq = 1")
    r = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert r.exit_code == 1 and "TAMPERED" in r.output and "entry 1" in r.output

    r = runner.invoke(app, ["check-id", "001085012345"])
    assert r.exit_code == 0 and "Hà Nội" in r.output
    r = runner.invoke(app, ["check-id", "12345"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["check-id", "999085012345"])
    assert r.exit_code == 2 and "999" in r.output
    monkeypatch.setenv("LIENTHONG_ABROAD_ID_PREFIXES", '["999"]')
    reset_settings_cache()
    r = runner.invoke(app, ["check-id", "999085012345"])
    assert r.exit_code == 0 and "mã nước ngoài" in r.output, r.output
    monkeypatch.delenv("LIENTHONG_ABROAD_ID_PREFIXES")
    reset_settings_cache()

    r = runner.invoke(app, ["staff", "list", "--database-url", url])
    assert r.exit_code == 0 and "admin" in r.output and "officer" in r.output
