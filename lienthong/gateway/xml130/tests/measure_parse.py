"""Run in a fresh process: parse (and optionally validate) one envelope, print peak RSS and throughput as JSON.

Usage: python measure_parse.py PATH [--validate] [--max-file-bytes N]
"""

import json
import resource
import sys
import time

from lienthong.gateway.xml130.errors import EnvelopeError
from lienthong.gateway.xml130.parser import EnvelopeReader
from lienthong.gateway.xml130.validate import validate_dossier


def peak_rss_mb() -> float:
    """This process's peak RSS. ``VmHWM`` belongs to the current address space, whereas Linux carries
    ``ru_maxrss`` over from the parent across fork+exec (it would report pytest's own size)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    path = sys.argv[1]
    validate = "--validate" in sys.argv
    kwargs = {}
    if "--max-file-bytes" in sys.argv:
        kwargs["max_file_bytes"] = int(sys.argv[sys.argv.index("--max-file-bytes") + 1])
    base = peak_rss_mb()
    reader = EnvelopeReader(path, **kwargs)
    t0 = time.perf_counter()
    out = {"dossiers": 0, "records": 0, "errors": 0, "accepted": 0, "envelope_error": None}
    try:
        for d in reader:
            out["dossiers"] += 1
            out["records"] += d.record_count
            out["errors"] += len(d.errors)
            if validate:
                res = validate_dossier(d)
                out["accepted"] += res.accepted
    except EnvelopeError as exc:
        out["envelope_error"] = {"code": exc.code, "message": exc.message, "line": exc.line}
    out["seconds"] = time.perf_counter() - t0
    out["bytes"] = reader.stats.bytes_read
    out["baseline_rss_mb"] = base
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
