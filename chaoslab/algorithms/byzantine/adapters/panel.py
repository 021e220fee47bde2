"""The Byzantine generals' dashboard panel: the order, what each lieutenant received, IC1/IC2.

The spec names it; it shows the last agreement most nodes know (a node still on an older
one, or that never heard of it, gets a dash), what each lieutenant received from the
commander and from each relay of it (paths of length <= 2; the status counts the deeper
ones), each decision (``*`` when it leaned on RETREAT for a missing value: a traitor's
silence, or a message the proxy dropped), the messages sent, and IC1/IC2.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from chaoslab.dashboard.snapshot import detail, get, node_status, nodes, num, text
from chaoslab.dashboard.style import BAD, DIM, WARN, role_text
from chaoslab.dashboard.widgets import WIDE, dash, framed, no_status_text, table

__all__ = ["byzantine_panel"]

Snapshot = Mapping[str, Any]

DETAIL = "byzantine"  # the key of the Byzantine detail in a node's status


def _value_text(value: str) -> Text:
    if not value:
        return Text("…", style=DIM)
    return Text(value, style="bold")


def byzantine_panel(snapshot: Snapshot, *, width: int = 80) -> Panel:
    """The commander's order, what each lieutenant received (and over which relay path),
    its decision, traitors marked, and the two interactive-consistency conditions."""
    members = nodes(snapshot)
    details = [detail(n, DETAIL) for n in members if node_status(n) is not None]
    known = Counter(text(d, "instance") for d in details if text(d, "instance"))
    instance = known.most_common(1)[0][0] if known else ""
    info = next((d for d in details if text(d, "instance") == instance), details[0] if details else {})
    commander = text(info, "commander") if instance else ""
    mode = text(info, "mode", default="om").upper()
    m = num(info, "faults")
    wide = width >= WIDE

    head = Text()
    head.append(f"{mode}({m})", style="bold")
    head.append(f" · commander {commander or '?'}")
    if instance:
        sent = sum(num(d, "sent") or 0 for d in details if text(d, "instance") == instance)
        head.append(f" · agreement {instance} · {sent} messages", style=DIM)
    traitors = [str(t) for t in get(info, "traitors", default=[]) or []]
    if traitors:
        head.append(" · traitors ", style=DIM)
        head.append(" ".join(traitors), style=BAD)
    if not instance and details:
        head.append("\nno agreement yet: chaoslab order attack|retreat", style=DIM)
        return framed(head, "Byzantine generals")

    grid = table()
    grid.add_column("node", no_wrap=True, style="bold")
    grid.add_column("role", no_wrap=True)
    grid.add_column("loyal", no_wrap=True)
    grid.add_column("from cmdr", no_wrap=True)
    grid.add_column("received" if wide else "received (tally)", overflow="fold")
    grid.add_column("decision", no_wrap=True)

    order = ""
    loyal_commander = True
    decisions: dict[str, str] = {}
    pending = 0
    defaulted = 0
    for node in members:
        nid = text(node, "id", default="?")
        status = node_status(node)
        if status is None:
            grid.add_row(nid, no_status_text(node), dash(), dash(), dash(), dash(), style=DIM)
            continue
        b = detail(node, DETAIL)
        traitor = bool(get(b, "traitor", default=False))
        if instance and text(b, "instance") != instance:  # not (yet) in this agreement
            grid.add_row(nid, role_text("lieutenant", "follow"), Text("✗ traitor", style=BAD) if traitor
                         else Text("loyal", style=DIM), dash(), Text("not in this agreement", style=DIM), dash())
            if not traitor and nid != commander:
                pending += 1
            continue
        is_cmdr = nid == commander
        loyal = Text("✗ traitor", style=BAD) if traitor else Text("loyal", style=DIM)
        if is_cmdr:
            order = text(b, "order")
            loyal_commander = not traitor
            grid.add_row(nid, role_text("commander", "lead"), loyal, Text("order:", style=DIM),
                          _value_text(order), dash())
            continue
        received = [r for r in get(b, "received", default=[]) or [] if isinstance(r, Mapping)]
        direct = next((text(r, "value") for r in received
                       if [str(p) for p in get(r, "path", default=[]) or []] == [commander]), "")
        if wide:
            got = Text()
            for i, r in enumerate(received):
                if i:
                    got.append("  ")
                path = "›".join(str(p) for p in get(r, "path", default=[]) or [])
                got.append(f"{path}:", style=DIM)
                got.append(text(r, "value", default="?"))
        else:
            tally = Counter(text(r, "value", default="?") for r in received)
            got = Text(" ".join(f"{v}×{c}" for v, c in sorted(tally.items())) or "–")
        decision = text(b, "decision")
        if not traitor:
            if decision:
                decisions[nid] = decision
            else:
                pending += 1
        shown = _value_text(decision) if decision or not traitor else dash()  # traitors need not decide
        if decision and get(b, "defaulted", default=False):
            shown.append("*", style=WARN)
            defaulted += 1
        grid.add_row(nid, role_text("lieutenant", "follow"), loyal, _value_text(direct), got, shown)

    checks = Text()
    if pending:
        checks.append(f"… {pending} loyal lieutenant(s) still deciding", style=WARN)
    elif not decisions:
        checks.append("no loyal lieutenant has decided", style=DIM)
    else:
        agreed = set(decisions.values())
        if len(agreed) == 1:
            checks.append("✓ IC1 loyal lieutenants agree", style="green")
        else:
            checks.append("✕ IC1 loyal lieutenants disagree", style=BAD)
        checks.append("   ")
        if not loyal_commander:
            checks.append("IC2 n/a (commander is a traitor)", style=DIM)
        elif agreed == {order}:
            checks.append("✓ IC2 they obey the order", style="green")
        else:
            checks.append("✕ IC2 they do not obey the loyal commander", style=BAD)
    if defaulted:
        checks.append(f"\n* used RETREAT for a missing value ({defaulted})", style=DIM)
    return framed(Group(head, grid, checks), "Byzantine generals")
