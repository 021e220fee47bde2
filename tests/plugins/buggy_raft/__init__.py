"""Raft with a planted bug, chosen by ``bug`` in its config: proof that the lab catches a broken build.

It is chaoslab's own Raft and key-value store with one rule broken (core.py: each
bug a subclass of the real core overriding one method), loaded like any plug-in
(``buggy_raft.spec:SPEC``, or ``buggy_raft`` once tests/plugins is registered, see
registration.py), so it runs as real processes and in the simulator alike:

- ``stale_reads``: every node, leader or not, answers a read at once from what it
  has applied, with no ReadIndex round. A follower or a deposed leader serves old data.
- ``apply_before_commit``: a leader treats its own entries as committed as soon as it
  appends them, and acknowledges the client before any follower has them.
- ``follower_applies_uncommitted``: a follower applies entries as soon as it appends them.
- ``late_vote``: the vote is written with the node's next output, after the grant left.
- ``late_append``: a follower acknowledges entries before they are written.
- ``no_step_down``: check-quorum forgotten; a cut-off leader keeps leading its minority.
- ``commit_not_clamped``: a follower's commit index goes up to its own last entry.
- ``snapshot_keeps_log``: InstallSnapshot keeps a log whose entry at the index has another term.
- ``stale_snapshot``: a follower installs a snapshot older than what it committed.
- ``none`` (the default): plain Raft, for a control run.

    chaoslab up buggy_raft --nodes 3 --set bug=stale_reads

``survey.py`` runs each bug in the simulator under a profile that gives it a chance
and says which check caught it (TESTING.md has the table).
"""
