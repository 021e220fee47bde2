"""``python -m chaoslab.sim``: replay one seeded simulation and print its trace.

Exit status: 0 the invariants held and the cluster settled, 1 a violation
(safety or liveness), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from chaoslab.algorithms.registry import DEFAULT_ALGORITHM, available, get_algorithm
from chaoslab.sim.network import NetworkConfig
from chaoslab.sim.scenario import run_scenario


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (the house rule for bad input)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m chaoslab.sim", description="Run one deterministic, seeded simulation.")
    p.add_argument("--algorithm", default=DEFAULT_ALGORITHM,
                   help=f"one of: {', '.join(available())}, or a module:attr reference (default {DEFAULT_ALGORITHM})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--duration", type=float, default=10.0, help="virtual seconds (of faults, with --nemesis)")
    p.add_argument("--settle", type=float, default=3.0, help="virtual seconds allowed to settle afterwards")
    p.add_argument("--nemesis", action="store_true", help="random partitions, crashes, restarts from the seed")
    p.add_argument("--crash-after", default="", metavar="POINTS",
                   help="crash nodes right after these kinds of steps (comma-separated, e.g. vote,append,snapshot; "
                        "'all': every crash point the algorithm names)")
    p.add_argument("--schedule", default="", metavar="ACTIONS",
                   help="a written fault schedule, e.g. '1 crash n1,n2; 1.5 restart n2; 2 isolate leader; 3 heal'")
    p.add_argument("--fsync-ms", type=float, default=0.0, metavar="MS",
                   help="virtual time one fsync takes: outputs wait for it (group commit) and a crash loses them")
    p.add_argument("--workload", type=int, default=0, metavar="CLIENTS", help="run this many key-value clients (algorithms serving the KV API)")
    p.add_argument("--rate", type=float, default=0.0, help="client operations/s in all (default 20 per client)")
    p.add_argument("--keys", type=int, default=4, help="keys the clients use")
    p.add_argument("--request-window", type=float, default=0.0, metavar="SECONDS",
                   help="hand a node the client requests that reach it within this window as one burst")
    p.add_argument("--max-stall", type=float, default=0.0, metavar="SECONDS",
                   help="with a workload: fail if no write commits for this long while clients run")
    p.add_argument("--check-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="wall time for the linearizability check of the history (then: unknown)")
    p.add_argument("--history", metavar="FILE", help="write the clients' Jepsen-style history here (JSON lines)")
    p.add_argument("--drop", type=float, default=NetworkConfig().drop, help="message drop probability")
    p.add_argument("--duplicate", type=float, default=NetworkConfig().duplicate, help="duplicate probability")
    p.add_argument("--reorder", type=float, default=NetworkConfig().reorder,
                   help="probability a message is held back so later ones overtake it")
    p.add_argument(
        "--delay-ms",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=[d * 1000 for d in NetworkConfig().delay],
        help="one-way delay range in milliseconds",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="algorithm setting, value as JSON (e.g. election_timeout_ms=[100,200])",
    )
    p.add_argument("--messages", action="store_true", help="trace every message too")
    p.add_argument("--quiet", action="store_true", help="print the summary only")
    return p


def _settings(pairs: Sequence[str]) -> dict[str, object]:
    config: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            config[key] = json.loads(raw)
        except json.JSONDecodeError:
            config[key] = raw
    return config


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.nodes < 1:
            raise ValueError(f"--nodes must be at least 1, got {args.nodes}")
        if args.duration < 0 or args.settle < 0:
            raise ValueError("--duration and --settle must not be negative")
        if args.workload < 0 or args.keys < 1 or args.rate < 0:
            raise ValueError("--workload and --rate must not be negative, --keys must be at least 1")
        if args.request_window < 0 or args.fsync_ms < 0 or args.max_stall < 0 or args.check_timeout <= 0:
            raise ValueError("--request-window, --fsync-ms and --max-stall must not be negative, --check-timeout positive")
        try:
            get_algorithm(args.algorithm)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        network = NetworkConfig(
            drop=args.drop, duplicate=args.duplicate, reorder=args.reorder,
            delay=(args.delay_ms[0] / 1000, args.delay_ms[1] / 1000),
        )
        config = _settings(args.set)
        result = run_scenario(
            args.algorithm,
            seed=args.seed,
            nodes=args.nodes,
            duration=args.duration,
            nemesis=args.nemesis,
            network=network,
            config=config,
            settle=args.settle,
            trace_messages=args.messages,
            workload=args.workload,
            rate=args.rate,
            keys=args.keys,
            request_window=args.request_window,
            fsync=args.fsync_ms / 1000,
            crash_points=[p for p in args.crash_after.split(",") if p],
            schedule=args.schedule,
            max_stall=args.max_stall,
            check_timeout=args.check_timeout,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        for line in result.sim.trace:
            print(line)
    if args.history and result.workload is not None:
        try:
            with open(args.history, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(op.as_dict()) + "\n" for op in result.workload.history)
        except OSError as e:
            print(f"error: cannot write {args.history}: {e.strerror}", file=sys.stderr)
            return 2
    print(result.summary())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
