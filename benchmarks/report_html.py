"""How big and how quick report.html is, by size of history; and the README's screenshot.

    python benchmarks/report_html.py [--sizes 5000,50000] [--repeat 3] [--screenshot docs/report.png]

Each run directory is synthetic but realistic (``tests/chaos_runs.py``: a simulated 5-node Raft
cluster, the leader isolated and later crashed, Jepsen clients; the smallest size with one stale
read, so a verdict names operations). Reported per size: operations, the time ``write_html``
takes (reading, bokeh's models, the page), the page's size, and the time headless Chromium takes
to load and draw it (wall time of ``--screenshot``, best of ``--repeat``, less the best for an
empty page measured in turn with it: start-up is not the page's cost). ``--screenshot`` saves the smallest size's page
(1400 by 2000 px) as a palette PNG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from _common import machine_facts  # noqa: E402
from chaos_runs import sim_run  # noqa: E402

from chaoslab.chaos.html import write_html  # noqa: E402


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("no chromium, chromium-browser or google-chrome on PATH")


def shoot(page: Path, png: Path, size: str = "1400,2000") -> float:
    """Wall seconds for headless Chromium to load ``page`` and write a screenshot of it."""
    with tempfile.TemporaryDirectory() as profile:
        command = [browser(), "--headless", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
                   "--virtual-time-budget=5000", f"--screenshot={png}", f"--window-size={size}", page.as_uri()]
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, timeout=300, check=True, stdin=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="operations per history, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--screenshot", type=Path, help="save the smallest page's screenshot here (PNG)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    import bokeh

    print("\n".join(machine_facts(f"bokeh {bokeh.__version__}")))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        blank = work / "blank.html"
        blank.write_text("<!doctype html><title>blank</title>")
        print(f"{'ops':>8} {'clients':>7} {'write_html':>10} {'page':>8} {'browser':>8} {'empty page':>10}")
        for n in sizes:
            # closed-loop clients each finish about 40 operations a second, and the simulated cluster
            # about 1,500 in all: enough clients, and time, for n operations
            clients, duration = max(8, n // 500), max(20.0, n / 1500)
            run_dir = sim_run(work / f"run{n}", n, violation=n == sizes[0], clients=clients, duration=duration)
            start = time.perf_counter()
            page = write_html(run_dir)
            took = time.perf_counter() - start
            ops = sum(1 for line in (run_dir / "history.jsonl").open() if '"invoke"' in line)
            png = work / f"page{n}.png"
            # the empty page alternates with the real one: on a shared machine the load moves
            times = [(shoot(blank, work / "blank.png"), shoot(page, png)) for _ in range(args.repeat)]
            base = min(t for t, _ in times)
            draw = min(t for _, t in times) - base
            print(f"{ops:>8,} {clients:>7} {took:>9.2f}s {page.stat().st_size / 1e6:>6.2f}MB {draw:>7.2f}s "
                  f"{base:>9.2f}s")
            if n == sizes[0] and args.screenshot:
                from PIL import Image  # bokeh's own dependency

                Image.open(png).convert("RGB").quantize(colors=128).save(args.screenshot, optimize=True)
                print(f"screenshot: {args.screenshot} ({args.screenshot.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
