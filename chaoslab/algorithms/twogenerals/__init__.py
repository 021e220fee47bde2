"""The Two Generals (Akkoyunlu, Ekanadham, Huber 1975; Gray 1978): agreement over a lossy link.

Two generals, ``n1`` and ``n2``, must attack at the same time or not at all, and can talk only
through messengers who may be lost. ``n1`` proposes an attack time; every messenger that
arrives is acknowledged, and each acknowledgement needs its own acknowledgement, so the
chain never ends with certainty. Each general attacks at the agreed time if it has received
enough acknowledgements (``confirmations``): any such rule can leave one general attacking
alone, only less often as messengers get through more often.

``core.py`` is the sans-I/O general, ``spec.py`` what chaoslab needs to run it, and
``adapters/`` the driver-side pieces: the dashboard panel and the ``chaoslab attack`` and
``chaoslab twogenerals`` commands.
"""
