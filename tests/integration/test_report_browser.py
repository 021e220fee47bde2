"""report.html in a real browser: headless Chromium draws it offline, and the plots are there.

Skips when no Chromium-family browser is installed (``.ci/run`` installs one).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from chaos_runs import sim_run
from chaoslab.chaos.html import write_html

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER = next((path for path in map(shutil.which, BROWSERS) if path), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason=f"no headless browser ({', '.join(BROWSERS)}) installed")

# Counts the canvases bokeh drew (they live in shadow roots, which --dump-dom does not print).
PROBE = """<script>
setTimeout(function () {
  function count(root) {
    var n = root.querySelectorAll("canvas").length;
    root.querySelectorAll("*").forEach(function (el) { if (el.shadowRoot) n += count(el.shadowRoot); });
    return n;
  }
  document.body.setAttribute("data-canvases", String(count(document)));
}, 2000);
</script>"""


def browse(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [BROWSER, "--headless", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
               "--virtual-time-budget=5000", *args]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root inside its sandbox
    return subprocess.run(command, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)


def png_rows(path: Path) -> list[bytes]:
    """The pixel rows of an 8-bit RGB or RGBA PNG (what Chromium writes), filters undone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format: depth {depth}, colour type {colour}"
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return rows


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    """A realistic run (simulated Raft under faults, one stale read) and its page."""
    return write_html(sim_run(tmp_path_factory.mktemp("run"), ops=2000, violation=True))


def test_the_page_draws_offline(report_html: Path, tmp_path: Path) -> None:
    """A screenshot of the page is a real picture: many colours, not one blank sheet."""
    shot = tmp_path / "shot.png"
    done = browse(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,1800",
                  report_html.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    rows = png_rows(shot)
    assert len(rows) == 1800
    # the plots' rows (below the header) hold many different colours; a blank page holds one
    colours = {row[i:i + 3] for row in rows[900:1700:10] for i in range(0, len(row), 3 * 7)}
    assert len(colours) > 50, f"only {len(colours)} colours: the page looks blank"


def test_the_plots_render_after_the_script_ran(report_html: Path, tmp_path: Path) -> None:
    """Bokeh's JavaScript (inline) builds all four figures and draws them on canvases."""
    probe = tmp_path / "probe.html"
    probe.write_text(report_html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    done = browse(tmp_path / "profile", "--dump-dom", probe.as_uri())
    dom = done.stdout
    assert dom.count('class="bk-Figure') == 4, done.stderr[-2000:]
    canvases = int(dom.split('data-canvases="', 1)[1].split('"', 1)[0]) if "data-canvases" in dom else 0
    assert canvases >= 4, f"{canvases} canvases drawn"
