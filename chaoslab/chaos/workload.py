"""Real clients against a running cluster, recording what they see: the raw material of the verdicts.

:class:`KVWorkload` runs Jepsen-style key-value clients, one thread and one
:class:`~chaoslab.client.KVClient` each (its own client id, so a retried write
applies once), together at the scenario's rate. Every operation is an invoke
line before it is sent and a completion line after the answer, in
``history.jsonl`` through a shared :class:`~chaoslab.chaos.history.HistoryRecorder`.

How an answer becomes a completion (Jepsen's rules): a read that times out is
``fail`` (a read changes nothing, so "did not happen" is always a correct
account of it); a write or cas that times out after it may have reached a leader
is ``info`` (outcome unknown), and ``fail`` only when it surely was not applied
(refused before sending, a cas whose expected value did not match).

Every written value is unique (``p<process>-<n>``), so a read names the write it
saw: the checker and :func:`~chaoslab.chaos.verdicts.no_lost_writes` rely on it.

:class:`OrdersWorkload` is the Byzantine counterpart: orders from one commander,
each agreement's :class:`AgreementReport` kept for the verdict.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.registry import load_ref
from chaoslab.chaos.clients import ClientPool, Outcome, poll, unanswered, weighted
from chaoslab.chaos.history import HistoryRecorder
from chaoslab.chaos.scenario import KV_OPS, WorkloadSection
from chaoslab.client import CAS_MISMATCH, NOT_FOUND, OK, KVClient, Result
from chaoslab.errors import LabError

if TYPE_CHECKING:
    from chaoslab.algorithms.byzantine.adapters.agreement import AgreementReport
    from chaoslab.lab.cluster import Cluster

__all__ = ["FINAL_ATTEMPT_S", "KVWorkload", "Outcome", "OrdersWorkload", "outcome"]

#: How long one try of a final read may take (the client retries across nodes within it).
FINAL_ATTEMPT_S = 2.0


def outcome(f: str, result: Result | None, error: Exception | None = None) -> Outcome:
    """The completion of operation ``f`` ("read", "write", "cas") from the client's answer or exception.

    A read of a missing key is ``ok`` with value None; a cas that found another
    value, or no value, is ``fail``; a write that may have been applied but was
    not acknowledged is ``info``. Any code the operation cannot return is ``info``
    for a write (better unknown than wrong) and ``fail`` for a read.
    """
    if result is None:
        return unanswered(f, error)
    code, node = result.code, result.node
    if f == "read":
        if code == OK:
            return "ok", result.value, node, ""
        if code == NOT_FOUND:
            return "ok", None, node, ""
        return "fail", None, node, result.code_name
    if code == OK:
        return "ok", None, node, ""
    if f == "cas" and code in (CAS_MISMATCH, NOT_FOUND):
        return "fail", None, node, result.code_name
    return "info", None, node, f"unexpected {result.code_name}"


class KVWorkload(ClientPool):
    """``section.clients`` key-value clients over keys ``k1..k<section.keys>``, ``section.rate`` ops/s in all."""

    def __init__(self, cluster: Cluster, section: WorkloadSection, rng: random.Random, recorder: HistoryRecorder) -> None:
        _check_section(section)
        super().__init__(cluster, section, rng, recorder)
        self.keys = [f"k{i}" for i in range(1, section.keys + 1)]
        self.fs, self.weights = weighted(section.mix, KV_OPS)
        self._seen: dict[int, dict[str, Any]] = {}  # process -> key -> the value it last read or wrote there (for cas)
        self._written: dict[int, int] = {}  # process -> values it wrote so far
        # Clients speak chaoslab.v1.KV unless the algorithm names its own (AlgorithmSpec.kv_client).
        ref = getattr(getattr(cluster, "algorithm", None), "kv_client", None)  # (a test's stand-in has no spec)
        self._connect: Callable[..., Any] = load_ref(ref) if ref else KVClient.for_cluster

    def connect(self, process: int, home: str | None) -> Any:
        # Each client asks its own node first, so a node that answers when it should redirect
        # (a stale local read) is asked, not only the leader.
        return self._connect(self.cluster, timeout=self.section.timeout, home=home)

    def final_reads(self, timeout: float = 10.0) -> dict[str, Any]:
        """One read of every key, retried until ``timeout`` s pass, recorded like any other read.

        Call it once faults are healed and nodes restarted: these reads are what
        every acknowledged write must be visible in. Processes ``clients + i``
        read key ``k<i+1>``. Returns ``{key: value}`` (None: absent) for the keys
        read; a key missing from it was never read within the deadline.
        """
        deadline = time.monotonic() + timeout
        values: dict[str, Any] = {}
        with self._connect(self.cluster) as client:
            for i, key in enumerate(self.keys):
                process = self.section.clients + i

                def attempt(key: str = key, process: int = process) -> bool:
                    # Each key gets at least one try, even when an earlier one used up the time.
                    budget = min(max(deadline - time.monotonic(), 0.5), FINAL_ATTEMPT_S)
                    done, _ = self.record(process, "read", key, None,
                                          lambda: _judged("read", lambda: client.get(key, timeout=budget)), final=True)
                    if done[0] == "ok":
                        values[key] = done[1]
                    return done[0] == "ok"

                poll(deadline, attempt)
        return values

    # ------------------------------------------------------------------ one client

    def operate(self, process: int, client: Any, rng: random.Random) -> None:
        seen = self._seen.setdefault(process, {})
        f = rng.choices(self.fs, self.weights)[0]
        key = rng.choice(self.keys)
        if f != "read":
            self._written[process] = self._written.get(process, 0) + 1
        new = f"p{process}-{self._written.get(process, 0)}"
        value: Any = None if f == "read" else new if f == "write" else [seen.get(key), new]
        recorded = self.record(process, f, key, value, lambda: _judged(f, lambda: self._send(client, f, key, value)))
        if recorded is None:
            return
        done, result = recorded
        if done[0] == "ok":
            seen[key] = done[1] if f == "read" else new
        elif result is not None and f == "cas" and result.code in (CAS_MISMATCH, NOT_FOUND):
            seen[key] = result.value if result.code == CAS_MISMATCH else None  # what the key held

    @staticmethod
    def _send(client: KVClient, f: str, key: str, value: Any) -> Result:
        if f == "read":
            return client.get(key)
        if f == "write":
            return client.put(key, value)
        return client.cas(key, value[0], value[1])


def _judged(f: str, send: Callable[[], Result]) -> tuple[Outcome, Result]:
    result = send()
    return outcome(f, result), result


class OrdersWorkload:
    """Byzantine orders from the first node, one agreement at a time, at most ``section.rate`` a second.

    Orders alternate between the two values from a seeded first one. Each agreement waits
    by its own deadline (its rounds plus 5 s, :func:`run_agreement`'s default), not
    ``section.timeout``: a shorter wait would count slow lieutenants as undecided.

    Each order is a history line pair (``f`` "order", ``key`` the commander, the
    order as value; the completion's value the lieutenants' decisions) so the
    timeline and availability windows see it; the verdict comes from :attr:`reports`.
    """

    def __init__(self, cluster: Cluster, section: WorkloadSection, rng: random.Random, recorder: HistoryRecorder) -> None:
        if not section.rate > 0:
            raise LabError(f"workload rate must be above 0, got {section.rate:g}")
        self.cluster = cluster
        self.section = section
        self.recorder = recorder
        self.commander = cluster.node_ids[0]
        self.reports: list[AgreementReport] = []
        self.errors: list[str] = []
        self._rng = random.Random(rng.getrandbits(64))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise LabError("the workload has already started")
        self._thread = threading.Thread(target=self._run, name="chaos-orders", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Issue no more orders; wait up to ``timeout`` s for the one in progress (else it becomes ``info``)."""
        with self._lock:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            handle, self._open = self._open, None
        if handle is not None:
            self.recorder.complete(handle, "info", error="agreement still running when the workload stopped")

    def counts(self) -> dict[str, int]:
        """Orders by outcome, shaped like :meth:`KVWorkload.counts`."""
        with self._lock:
            reports = list(self.reports)
        decided = sum(1 for r in reports if not r.undecided)
        return {"invoke": len(reports) + len(self.errors), "ok": decided, "fail": 0,
                "info": len(reports) - decided + len(self.errors)}

    def _run(self) -> None:
        from chaoslab.algorithms.byzantine.adapters.agreement import run_agreement
        from chaoslab.algorithms.byzantine.config import VALUES

        interval = 1.0 / self.section.rate
        due = time.monotonic()
        first = self._rng.randrange(len(VALUES))
        for k in itertools.count():
            if self._stop.wait(max(0.0, due - time.monotonic())):
                break
            # Orders alternate from a seeded first one, so any two orders in a row hold both values.
            order = VALUES[(first + k) % len(VALUES)]
            with self._lock:
                if self._stop.is_set():
                    break
                handle = self._open = self.recorder.invoke(0, "order", self.commander, order)
            try:
                report = run_agreement(self.cluster, order, self.commander)
            except LabError as exc:  # the commander is down or paused: nobody knows what it did
                self.errors.append(str(exc))
                self.recorder.complete(handle, "info", error=str(exc))
            else:
                with self._lock:
                    self.reports.append(report)
                # Undecided loyal lieutenants: the order's outcome is unknown to them.
                undecided = f"undecided: {', '.join(report.undecided)}" if report.undecided else ""
                self.recorder.complete(handle, "info" if undecided else "ok",
                                       {"instance": report.instance, "decisions": report.decisions}, error=undecided)
            with self._lock:
                self._open = None
            due = max(due + interval, time.monotonic() - interval)


def _check_section(section: WorkloadSection) -> None:
    if section.clients < 1 or section.keys < 1:
        raise LabError(f"workload needs at least one client and one key, got {section.clients} and {section.keys}")
