"""Errors a user can cause and fix. The CLI prints them as one line and exits 2."""


class LabError(Exception):
    """Bad input or environment: unknown node, port in use, no such cluster, ..."""


class NotDelivered(LabError):
    """A request that surely did not reach its node (the connection was refused: the node is down),
    so it cannot have taken effect: a client may record it as failed, not unknown."""
