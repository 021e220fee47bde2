"""The Bully algorithm: only its dashboard panel so far (``adapters/panel.py``).

The core, its messages and its ``SPEC`` arrive with a later issue; until then
the algorithm is not registered and ``chaoslab up bully`` does not know it.
"""
