"""``chaoslab maelstrom test``: Maelstrom's own command line, written out as a scenario file.

Someone who runs ``maelstrom test -w broadcast --bin ./b --node-count 5 --time-limit 20
--rate 10 --nemesis partition`` gets the same test here by putting ``chaoslab maelstrom`` in
front. The options become a scenario (:func:`scenario_toml`), the file ``chaoslab run`` reads,
saved where the user can see it and copy it into CI, so the test is replayable without the
command line that made it. Only the mapping lives here; parsing and running are the scenario
parser's and the runner's, as for any file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from chaoslab.algorithms.maelstrom.spec import RUN_KINDS, WORKLOADS

#: Maelstrom's fault names (``--nemesis``) and the nemesis kinds they are here.
NEMESIS = {"partition": "partition", "kill": "crash", "pause": "pause"}
_DESCRIPTION = "Maelstrom's {workload} workload against {bin}."
#: Maelstrom's default nemesis interval, shortened for short runs so faults still come.
NEMESIS_INTERVAL_S = 10.0


def clients_for(concurrency: str, nodes: int) -> int:
    """``--concurrency``: a count (``4``) or a multiple of the node count (``2n``), as Maelstrom takes it."""
    found = re.fullmatch(r"\s*(\d+)\s*(n?)\s*", concurrency)
    if not found or int(found.group(1)) < 1:
        raise ValueError(f"--concurrency must be a count like 4 or a multiple of the nodes like 2n, got {concurrency!r}")
    return int(found.group(1)) * (nodes if found.group(2) else 1)


def nemesis_kinds(nemesis: str) -> list[str]:
    """``--nemesis partition,kill`` as nemesis kinds; "" for none."""
    names = [n.strip() for n in nemesis.split(",") if n.strip()]
    unknown = [n for n in names if n not in NEMESIS]
    if unknown:
        raise ValueError(f"--nemesis: unknown fault {unknown[0]!r} (known: {', '.join(NEMESIS)})")
    return list(dict.fromkeys(NEMESIS[n] for n in names))


def scenario_toml(*, workload: str, bin: str, args: Sequence[str] = (), nodes: int = 3, time_limit: float = 10.0,
                  rate: float = 10.0, concurrency: str = "1n", nemesis: str = "", nemesis_interval: float | None = None,
                  topology: str | None = None, command: str = "") -> str:
    """The scenario file for these options; ``command`` (the line that made it) heads it as a comment.

    ValueError (one line, naming the option) for what no scenario could hold; what the file
    could hold but the parser refuses (a bad topology, too many nodes) it refuses in its words.
    """
    if workload not in WORKLOADS:
        raise ValueError(f"-w/--workload must be one of {', '.join(WORKLOADS)}, got {workload!r}")
    for option, value in (("--time-limit", time_limit), ("--rate", rate)):
        if not value > 0:
            raise ValueError(f"{option} must be above 0, got {value:g}")
    kinds = nemesis_kinds(nemesis)
    lines = [f"# {command}" if command else "# chaoslab maelstrom test", "# Replay: chaoslab run THIS_FILE --seed N",
             f'name = "maelstrom-{workload}"',
             f"description = {_text(_DESCRIPTION.format(workload=workload, bin=bin))}", "",
             "[cluster]", 'algorithm = "maelstrom"', f"nodes = {nodes}", f"bin = {_text(bin)}"]
    if args:
        lines.append(f"args = [{', '.join(_text(a) for a in args)}]")
    lines.append(f"workload = {_text(workload)}")
    if topology:
        lines.append(f"topology = {_text(topology)}")
    lines += ["", "[workload]", f"kind = {_text(RUN_KINDS[workload])}", f"clients = {clients_for(concurrency, nodes)}",
              f"rate = {rate:g}", f'duration = "{time_limit:g}s"']
    if kinds:
        interval = nemesis_interval if nemesis_interval is not None else min(NEMESIS_INTERVAL_S, time_limit / 3)
        if not 0 < interval < time_limit:
            raise ValueError(f"--nemesis-interval must be above 0 and below --time-limit ({time_limit:g}s), got {interval:g}")
        # Maelstrom's nemesis starts a fault, waits an interval, ends it, waits again: half the time faulty.
        lines += ["", "[nemesis]", f"kinds = [{', '.join(_text(k) for k in kinds)}]",
                  f'interval = "{interval:g}s"', f'hold = "{interval / 2:g}s"']
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string: JSON's escapes are a subset
