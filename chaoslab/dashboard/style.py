"""The dashboard's visual vocabulary: colours and glyphs, in one place.

Every colour has a glyph or a word beside it, so a monochrome terminal (or a
golden text file) says the same thing as a colour one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from chaoslab.algorithms.spec import AlgorithmSpec

__all__ = [
    "KIND_GLYPH",
    "KIND_STYLE",
    "LINK_GLYPH",
    "LINK_STYLE",
    "STATE_GLYPH",
    "STATE_STYLE",
    "TERM_PALETTE",
    "role_kind",
    "role_label",
    "role_style",
    "role_text",
    "state_text",
    "term_colour",
    "term_text",
]

# Roles are styled by what they mean (``AlgorithmSpec.roles``), never by name: nodes
# that lead are green, those campaigning to lead yellow, followers in the terminal's
# default colour, roles the spec does not know get ``?``.
KIND_STYLE: dict[str, str] = {"lead": "bold green", "campaign": "bold yellow", "follow": ""}
KIND_GLYPH: dict[str, str] = {"lead": "★", "campaign": "◆", "follow": "○"}
# A ``pre_<role>`` (Raft's pre_candidate) is a tentative step before the role: a
# hollow glyph, not bold, and a short label (``pre-cand``).
PRE = "pre_"
PRE_GLYPH: dict[str, str] = {"lead": "☆", "campaign": "◇", "follow": "○"}

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


def role_kind(role: str, kind: str | AlgorithmSpec | None) -> str | None:
    """``lead``, ``campaign``, ``follow`` or None: ``kind`` itself when it is one, else
    what the spec's ``roles`` say about ``role``."""
    if kind is None or isinstance(kind, str):
        return kind
    roles = getattr(kind, "roles", None)
    return roles.get(role) if roles is not None else None


def role_label(role: str) -> str:
    """The role's name as shown: ``pre_candidate`` shortens to ``pre-cand``, others as they are."""
    if role.startswith(PRE) and len(role) > len(PRE):
        return "pre-" + role[len(PRE):][:4]
    return role


def role_style(role: str, kind: str | AlgorithmSpec | None) -> str:
    """The colour of a role of that kind (a ``pre_`` role is not bold)."""
    style = KIND_STYLE.get(role_kind(role, kind) or "", "")
    return style.removeprefix("bold ") if role.startswith(PRE) else style


def role_text(role: str, kind: str | AlgorithmSpec | None = None, *, glyph: bool = True) -> Text:
    """``★ leader`` in green, ``◆ candidate`` in yellow, ``○ follower`` plain, ``? <role>`` otherwise.

    ``kind`` is the role's kind (``"lead"``, ``"campaign"``, ``"follow"``) or the
    algorithm's spec, which knows it; without either the role is unknown (``?``).
    """
    if not role:
        return Text("–", style=DIM)
    label = role_label(role)
    style = role_style(role, kind)
    if not glyph:
        return Text(label, style=style)
    k = role_kind(role, kind) or ""
    mark = (PRE_GLYPH if role.startswith(PRE) else KIND_GLYPH).get(k, "?")
    return Text(f"{mark} {label}", style=style)


def state_text(state: str) -> Text:
    """``● up``, ``‖ paused``, ``✕ crashed``, ``◌ starting``, ``? no answer``."""
    state = state or "?"
    return Text(f"{STATE_GLYPH.get(state, '?')} {state}", style=STATE_STYLE.get(state, ""))
