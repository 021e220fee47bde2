"""Errors a user can cause and fix. The CLI prints them as one line and exits 2."""


class LabError(Exception):
    """Bad input or environment: unknown node, port in use, no such cluster, ..."""
