"""The Bully algorithm (Garcia-Molina 1982): ``core.py`` (the sans-I/O state machine and how
it works), ``messages.py``, ``config.py`` (``[bully]`` in ``clusters/bully.toml``),
``invariants.py`` (what the simulator checks) and ``spec.py`` (its ``SPEC``); the dashboard
panel is ``adapters/panel.py``.
"""
