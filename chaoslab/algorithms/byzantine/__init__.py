"""The Byzantine generals (oral messages): only its dashboard panel so far (``adapters/panel.py``).

The core, its messages and its ``SPEC`` arrive with a later issue; until then
the algorithm is not registered and ``chaoslab up byzantine`` does not know it.
"""
