"""The neighbour maps Maelstrom's broadcast workload gives its nodes (``topology`` message).

Built as ``maelstrom.workload.broadcast`` builds them, from the node ids in order, so a program
sees the same neighbours here as under Maelstrom with the same node count:

- ``grid`` (Maelstrom's default): nodes row by row in a square of side ceil(sqrt(n)), the last
  row possibly short; each node's neighbours are below, above, right, left (those that exist).
- ``line``: each node between the one before and the one after it.
- ``total``: every other node.
- ``tree`` / ``tree2`` / ``tree3`` / ``tree4``: a tree of branch factor 2 (``tree``), 2, 3 or
  4, filled tier by tier (the root, then b nodes, then b², ...), the children of a tier's k-th
  node the k-th run of b in the next tier; neighbours are the parent, then the children.

One difference: Maelstrom's ``line`` of a single node is an empty map; here every node has an
entry (an empty list), so a program that looks itself up does not fail on a one-node cluster.
"""

from __future__ import annotations

import math

TOPOLOGIES = ("grid", "line", "total", "tree", "tree2", "tree3", "tree4")


def neighbours(kind: str, nodes: list[str]) -> dict[str, list[str]]:
    """Each node's neighbours under topology ``kind`` (one of :data:`TOPOLOGIES`)."""
    if kind == "grid":
        return _grid(nodes)
    if kind == "line":
        return {node: [nodes[k] for k in (i - 1, i + 1) if 0 <= k < len(nodes)] for i, node in enumerate(nodes)}
    if kind == "total":
        return {node: [other for other in nodes if other != node] for node in nodes}
    if kind.startswith("tree") and kind in TOPOLOGIES:
        return _tree(int(kind[4:] or 2), nodes)
    raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, got {kind!r}")


def _grid(nodes: list[str]) -> dict[str, list[str]]:
    n = len(nodes)
    side = math.isqrt(n)
    side += side * side < n

    def at(i: int, j: int) -> str | None:
        index = i * side + j
        return nodes[index] if i >= 0 and 0 <= j < side and index < n else None

    grid = {}
    for index, node in enumerate(nodes):
        i, j = divmod(index, side)
        grid[node] = [m for m in (at(i + 1, j), at(i - 1, j), at(i, j + 1), at(i, j - 1)) if m is not None]
    return grid


def _tree(branch: int, nodes: list[str]) -> dict[str, list[str]]:
    # Filling tiers of 1, b, b², ... and handing each parent the next b children is the heap
    # layout: node i's children are b·i+1 .. b·i+b, its parent (i-1) // b.
    tree = {}
    for i, node in enumerate(nodes):
        parent = [nodes[(i - 1) // branch]] if i else []
        tree[node] = parent + nodes[branch * i + 1:branch * i + branch + 1]
    return tree
