"""Maelstrom-protocol programs as chaoslab nodes (bring your own node): a sans-I/O core that
translates between the protocol's JSON lines and chaoslab peer messages; the node runtime runs
the user's program beside it (``adapters/program.py``)."""
