"""Linearizability checking: ``check_history(history, model)`` and what it returns.

Modules: ``history`` (reading JSON lines, Jepsen EDN and log lines into
operations), ``models`` (sequential specifications), ``search`` (Wing & Gong
with Lowe's memoization), ``checker`` (partitions, verdicts, explaining a
failure), ``report`` (text and JSON) and ``html`` (the timeline).
"""

from chaoslab.check.checker import INVALID, UNKNOWN, VALID, CheckResult, Failure, PartitionResult, check_history
from chaoslab.check.history import HistoryError, Operation, read_history
from chaoslab.check.models import ILLEGAL, MODELS, Model, ModelError, get_model

__all__ = [
    "ILLEGAL",
    "INVALID",
    "MODELS",
    "UNKNOWN",
    "VALID",
    "CheckResult",
    "Failure",
    "HistoryError",
    "Model",
    "ModelError",
    "Operation",
    "PartitionResult",
    "check_history",
    "get_model",
    "read_history",
]
