"""Raft with a planted bug, chosen by ``bug`` in its config: proof that a chaos run catches a broken build.

It is chaoslab's own Raft and key-value store with one rule broken, loaded like
any plug-in (``buggy_raft.spec:SPEC``, or ``buggy_raft`` once tests/plugins is
registered, see registration.py), so it runs as real processes:

- ``bug = "stale_reads"``: every node, leader or not, answers a read at once from
  what it has applied, with no ReadIndex round (no check that it still leads,
  no wait for the commit index). A follower or a deposed leader serves old data.
- ``bug = "apply_before_commit"``: a leader treats its own entries as committed
  as soon as it appends them: it applies them and acknowledges the client before
  any follower has them, so a leader cut off or crashed right then loses
  acknowledged writes.
- ``bug = "none"`` (the default): plain Raft, for a control run.

    chaoslab up buggy_raft --nodes 3 --set bug=stale_reads
"""
