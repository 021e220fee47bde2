"""The Byzantine generals' driver-side pieces: one agreement run from the lab or the simulator
(``agreement.py``), the ``order`` command (``cli.py``) and the dashboard panel (``panel.py``)."""
