"""The freshness probes of ``bench.live`` (``freshness`` and ``quiet``): run the probe process, summarize its delays.

The probe process itself (``bench.harness.live.probe``) emits and polls; this runs it on a
run's live databases, with extra environment when asked (the quiet mode's floor publishes
on the request's own thread), and turns its delays into percentiles per kind.
"""
from __future__ import annotations

import math
from typing import Any

from bench.harness import PYTHON
from bench.harness.live.backlog import percentile
from bench.harness.live.processes import read_json
from bench.harness.live.run import Run


def probe(run: Run, session: str, probes: int, first_user: int, tag: str, sequential: bool = False,
          env: dict[str, str] | None = None, over_http: bool = False) -> dict[str, Any]:
    """Run the probe process for ``probes`` probes; summarize its delays per kind and overall."""
    args = run.args
    out = run.work / f"probe-{tag}.json"
    command = [PYTHON, "-m", "bench.harness.live.probe", "--port", str(args.port), "--session", session,
               "--probes", str(probes), "--interval", str(args.probe_interval), "--poll", str(args.poll_seconds),
               "--timeout", str(args.probe_timeout), "--first-user", str(first_user), "--tag", tag,
               "--log", str(run.work / f"tracking-probe-{tag}.log"), "--out", str(out), "--seed", str(args.seed)]
    command += (["--sequential"] if sequential else []) + (["--over-http"] if over_http else [])
    process = run.processes.start(f"probe-{tag}", command,
                                  {**run.live.env(), **(env or {})})
    process.wait(timeout=probes * (args.probe_interval + (args.probe_timeout if sequential else 0))
                 + args.probe_timeout + 120)
    data = read_json(out)
    if process.returncode != 0 or data is None:
        raise RuntimeError(f"the probe failed:\n{run.processes.log_tail('probe-' + tag)}")
    kinds: dict[str, Any] = {}
    for kind in ("enrollment", "video", "all"):
        rows = [p for p in data["probes"] if kind in ("all", p["kind"])]
        seconds = [p["seconds"] for p in rows if p["visible"]]
        kinds[kind] = {"n": len(rows), "not_visible": sum(not p["visible"] for p in rows),
                       "p50": percentile(seconds, 50), "p95": percentile(seconds, 95),
                       "p99": percentile(seconds, 99), "max": max(seconds, default=math.nan)}
    return {"kinds": kinds, "poll_ms_p50": percentile(data["poll_ms"], 50),
            "seconds": [round(p["seconds"], 3) for p in data["probes"]]}
