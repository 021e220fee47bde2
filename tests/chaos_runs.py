"""Synthetic run directories (``history.jsonl``, ``events.jsonl``, ``report.json``) for report tests.

``sim_run`` makes a realistic one: a 5-node Raft cluster in the deterministic simulator, Jepsen
clients, the leader isolated and later crashed, each node's role events and the crash/restart in
the event log, and (``violation=True``) one read made stale so the checker names a window of
operations. ``tests/`` is on ``sys.path`` under pytest (its conftest has no package), and
``benchmarks/report_html.py`` adds it, so both import this module by name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STARTED_AT = 1_796_000_000.0  # t0 in unix seconds: events are written against it, as the runner does


def write_run(run_dir: Path, report: dict[str, Any], history: list[dict[str, Any]] | None = None,
              events: list[dict[str, Any]] | None = None) -> Path:
    """The three files of a run directory; ``events`` times are seconds since t0 (stored as unix seconds)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    report = {"started_at": STARTED_AT, **report}
    (run_dir / "report.json").write_text(json.dumps(report, indent=2))
    if history is not None:
        (run_dir / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))
    if events is not None:
        lines = [json.dumps(dict(e, time=report["started_at"] + e["time"])) + "\n" for e in events]
        (run_dir / "events.jsonl").write_text("".join(lines))
    return run_dir


def _stale_read(records: list[dict[str, Any]], after: float) -> None:
    """Make one ok read after ``after`` (ns) return a value two acknowledged writes back: no order explains it."""
    invoked: dict[int, int] = {}
    acked: dict[str, list[tuple[int, int, str]]] = {}  # key -> (invoked, completed, value) of ok writes
    for i, r in enumerate(records):
        if r["type"] == "invoke":
            invoked[r["process"]] = r["time"]
            continue
        if r["type"] == "ok" and r["f"] == "write":
            acked.setdefault(r["key"], []).append((invoked[r["process"]], r["time"], r["value"]))
        if r["type"] == "ok" and r["f"] == "read" and r["time"] > after:
            began = invoked[r["process"]]
            done = [w for w in acked.get(r["key"], []) if w[1] < began]
            # v was overwritten by a write that began after v's write completed, both before this read began
            stale = [v for (_, v_done, v), (w_start, _, _) in zip(done, done[1:]) if v_done < w_start]
            if stale and stale[-1] != r["value"]:
                r["value"] = stale[-1]
                return
    raise ValueError("no read could be made stale")


def sim_run(run_dir: Path, ops: int = 5000, *, seed: int = 7, violation: bool = True, clients: int = 8,
            duration: float = 20.0) -> Path:
    """About ``ops`` client operations in ``duration`` virtual seconds against a simulated Raft cluster under
    faults, as a run directory (closed-loop clients each finish at most about 40 operations a second)."""
    from chaoslab.check import check_history
    from chaoslab.check.report import render_text
    from chaoslab.sim.simulation import Simulation
    from chaoslab.sim.workload import Workload

    sim = Simulation("raft", 5, seed)
    sim.run_until(lambda s: bool(s.leaders()), 5.0)
    t0 = sim.now
    # closed-loop clients complete about 0.43 of the rate they aim at under these faults
    work = Workload(sim, clients=clients, keys=4, rate=ops / duration / 0.43, mix={"get": 5, "put": 3, "cas": 2},
                    timeout=0.3, give_up=1.0)
    work.start(t0, until=t0 + duration)
    faults: list[dict[str, Any]] = []

    def isolate(s: Simulation) -> None:
        leader = next(iter(s.leaders()))
        s.isolate(leader)
        faults.append({"label": "partition isolate:leader", "kind": "partition", "start": s.now - t0,
                       "end": s.now - t0 + 0.2 * duration, "nodes": [leader], "source": "step"})

    def crash(s: Simulation) -> None:
        leader = next(iter(s.leaders()))
        s.crash(leader)
        s.at(s.now + 0.15 * duration, lambda s2: s2.restart(leader))
        faults.append({"label": f"crash leader ({leader})", "kind": "crash", "start": s.now - t0,
                       "end": s.now - t0 + 0.15 * duration, "nodes": [leader], "source": "step"})

    sim.at(t0 + 0.2 * duration, isolate)
    sim.at(t0 + 0.4 * duration, lambda s: s.heal())
    sim.at(t0 + 0.55 * duration, crash)
    sim.run_for(duration + 1.5)

    names = {"get": "read", "put": "write"}
    history = []
    for h in work.history:
        d = h.as_dict()
        d["f"] = names.get(d["f"], d["f"])
        d["time"] = round((h.time - t0) * 1e9)
        d.pop("index", None)
        history.append(d)
    if violation:
        _stale_read(history, after=round(0.8 * duration * 1e9))
    result = check_history(history, "kv", timeout=60)
    window = result.failure.window if result.failure else []
    counts = {"invoke": len(work.history) - sum(work.counts().values()), **work.counts()}
    events = []
    for e in sim.events:
        if e.kind in ("crash", "restart"):
            events.append({"time": e.time - t0, "source": "lab", "kind": e.kind, "node": e.node})
        elif e.node != "sim":
            events.append({"time": e.time - t0, "source": e.node, "kind": e.kind, **e.data})
    terms = {e.data.get("term") for e in sim.events if e.kind == "role" and e.data.get("role") == "leader"}
    verdicts = [
        {"name": "linearizable", "status": result.verdict,
         "summary": f"{result.verdict}: {len(result.operations):,} operations over 4 keys, "
                    f"checked in {result.seconds:.2f} s",
         "details": {"explanation": render_text(result)} if window else {"model": "kv"},
         "ops": [op.call_line for op in window]},
        {"name": "no_lost_writes", "status": "valid", "summary": "every acknowledged write is in the final reads",
         "details": {"acknowledged": sum(1 for h in history if h["type"] == "ok" and h["f"] != "read")}, "ops": []},
        {"name": "election_safety", "status": "valid",
         "summary": f"at most one leader per term ({len(terms)} terms with a leader)", "details": {}, "ops": []},
        {"name": "leader_within", "status": "valid", "summary": "a new leader within 2 s of each fault",
         "details": {"bound_s": 2.0}, "ops": []},
    ]
    invalid = result.verdict == "invalid"
    report = {"scenario": "raft-leader-isolation", "file": "faults/raft-leader-isolation.toml",
              "description": "Isolate the leader, heal, then crash the new leader and bring it back "
                             "(synthetic: the deterministic simulator, tests/chaos_runs.py).",
              "seed": seed, "quick": False, "algorithm": "raft", "nodes": 5, "cluster": "chaos-raft",
              "wall_s": duration + 3.1, "replay": f"chaoslab run faults/raft-leader-isolation.toml --seed {seed}",
              "ops": counts, "faults": faults, "verdicts": verdicts,
              "verdict": "invalid" if invalid else "valid", "expect": "valid", "as_expected": not invalid,
              "exit_code": 1 if invalid else 0, "error": None}
    return write_run(run_dir, report, history, events)
