"""Constant-memory parsing of large envelopes, measured in a fresh process (peak RSS covers libxml2's
C allocations, which tracemalloc does not see)."""

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lienthong.gateway.xml130.generate import write_envelope
from xml130_helpers import envelope

MEASURE = Path(__file__).with_name("measure_parse.py")
PEAK_LIMIT_MB = 150


def measure(path: Path, *args: str) -> dict:
    proc = subprocess.run([sys.executable, str(MEASURE), str(path), *args], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_200mb_envelope_parses_in_bounded_memory(tmp_path):
    path = tmp_path / "big.xml"
    gen = write_envelope(path, 7600, facility_code="01001", seed=9)
    assert gen.bytes_written >= 200_000_000
    out = measure(path)
    assert out["envelope_error"] is None
    assert out["dossiers"] == 7600 and out["records"] == gen.records and out["errors"] == 0
    assert out["bytes"] == gen.bytes_written
    assert out["peak_rss_mb"] < PEAK_LIMIT_MB, out
    assert out["peak_rss_mb"] - out["baseline_rss_mb"] < 60, out
    mb_s = out["bytes"] / 1e6 / out["seconds"]
    print(f"\nparse: {mb_s:.1f} MB/s, {out['records'] / out['seconds']:.0f} records/s, peak RSS {out['peak_rss_mb']:.0f} MB "
          f"(baseline {out['baseline_rss_mb']:.0f} MB)")


@pytest.mark.slow
def test_50mb_inner_file_does_not_blow_memory(tmp_path):
    path = tmp_path / "big_inner.xml"
    head, tail = envelope([[("XML1", "@@")]]).split(b"@@")
    chunk = base64.b64encode(b"<TONG_HOP>" + b"A" * (3 * 1024 * 1024 - 10))
    with open(path, "wb") as fh:
        fh.write(head)
        for _ in range(50 * 1024 * 1024 // len(chunk) + 1):
            fh.write(chunk)
        fh.write(tail)
    out = measure(path)
    assert out["envelope_error"]["code"] == "file_too_large"
    assert out["peak_rss_mb"] < PEAK_LIMIT_MB, out
