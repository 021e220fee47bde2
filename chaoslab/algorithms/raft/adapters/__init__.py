"""Raft's driver-side pieces: its write-ahead log on disk and its dashboard panel.

Only drivers import these (through the spec's ``"module:attr"`` references); the
core in the folder above never does, so it stays free of I/O.
"""
