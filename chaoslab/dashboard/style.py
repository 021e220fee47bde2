"""The dashboard's visual vocabulary: colours and glyphs, in one place.

Every colour has a glyph or a word beside it, so a monochrome terminal (or a
golden text file) says the same thing as a colour one.
"""

from __future__ import annotations

from rich.text import Text

__all__ = [
    "LINK_GLYPH",
    "LINK_STYLE",
    "ROLE_GLYPH",
    "ROLE_STYLE",
    "STATE_GLYPH",
    "STATE_STYLE",
    "TERM_PALETTE",
    "role_text",
    "state_text",
    "term_colour",
    "term_text",
]

# Roles across algorithms. Leader-like roles are green, electing roles yellow,
# followers in the terminal's default colour.
ROLE_STYLE: dict[str, str] = {
    "leader": "bold green",
    "candidate": "bold yellow",
    "pre_candidate": "yellow",
    "follower": "",
    "coordinator": "bold green",
    "electing": "bold yellow",
    "member": "",
    "commander": "bold green",
    "lieutenant": "",
}
ROLE_GLYPH: dict[str, str] = {
    "leader": "★",
    "candidate": "◆",
    "pre_candidate": "◇",
    "follower": "○",
    "coordinator": "★",
    "electing": "◆",
    "member": "○",
    "commander": "★",
    "lieutenant": "○",
}
ROLE_LABEL: dict[str, str] = {"pre_candidate": "pre-cand"}

# Process states as the supervisor reports them, plus "no answer" for a node
# that is up but did not answer its status call in time.
STATE_STYLE: dict[str, str] = {
    "up": "green",
    "paused": "bold magenta",
    "crashed": "bold red",
    "starting": "yellow",
    "no answer": "red",
}
STATE_GLYPH: dict[str, str] = {
    "up": "●",
    "paused": "‖",
    "crashed": "✕",
    "starting": "◌",
    "no answer": "?",
}

# Directed link states in the network matrix.
LINK_GLYPH: dict[str, str] = {
    "ok": "·",
    "blackholed": "✕",
    "lossy": "~",
    "slow": "»",
    "duplicating": "+",
    "reordering": "⇄",
}
LINK_STYLE: dict[str, str] = {
    "ok": "green",
    "blackholed": "bold red",
    "lossy": "yellow",
    "slow": "cyan",
    "duplicating": "magenta",
    "reordering": "blue",
}

# Terms (epochs, rounds) get a stable colour: term mod len(palette). Red and
# green are left out because they already mean "crashed" and "leader".
TERM_PALETTE: tuple[str, ...] = (
    "blue",
    "cyan",
    "magenta",
    "yellow",
    "bright_blue",
    "bright_cyan",
    "bright_magenta",
    "bright_yellow",
)

WARN = "yellow"
BAD = "bold red"
DIM = "dim"


def term_colour(term: int) -> str:
    """The palette colour of a term; stable across frames and nodes."""
    return TERM_PALETTE[int(term) % len(TERM_PALETTE)]


def term_text(term: int) -> Text:
    """A term number in its palette colour."""
    return Text(str(term), style=term_colour(term))


def role_text(role: str, *, glyph: bool = True) -> Text:
    """``★ leader`` in green, ``◆ candidate`` in yellow, ``○ follower`` plain, ``? <role>`` otherwise."""
    if not role:
        return Text("–", style=DIM)
    label = ROLE_LABEL.get(role, role)
    style = ROLE_STYLE.get(role, "")
    if not glyph:
        return Text(label, style=style)
    return Text(f"{ROLE_GLYPH.get(role, '?')} {label}", style=style)


def state_text(state: str) -> Text:
    """``● up``, ``‖ paused``, ``✕ crashed``, ``◌ starting``, ``? no answer``."""
    state = state or "?"
    return Text(f"{STATE_GLYPH.get(state, '?')} {state}", style=STATE_STYLE.get(state, ""))
