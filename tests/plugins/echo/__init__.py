"""Echo: the smallest algorithm worth running, written as a plug-in to prove the plug-in point.

Every node pings every peer each ``interval_ms``; a peer answers with an echo of
the ping's number. A node counts a peer alive while it heard from it within
``timeout_ms``, and follows the lowest-numbered node it believes alive (itself
included): that node reports the role ``lowest`` and the others ``member``.
Each start bumps a durable boot counter, so restarts are visible in status.

Nothing in chaoslab names it: it is found through its spec (``echo.spec:SPEC``),
by reference or through the ``chaoslab.algorithms`` entry-point group.
"""
