"""The Byzantine generals (Lamport, Shostak, Pease 1982): OM(m) and SM(m) with traitors.

``core.py`` (the sans-I/O general), ``config.py`` (keys, seeded traitor choice, the message
cap), ``strategies.py`` (how traitors lie), ``signing.py`` (Ed25519 for SM), ``messages.py``,
and ``spec.py`` (its ``SPEC``). Driver-side: ``adapters/agreement.py`` (one agreement as a
Python API), ``adapters/cli.py`` (``chaoslab order``) and ``adapters/panel.py``.
"""
