"""Paced client threads that record what they see: the plumbing every scripted-run workload shares.

A workload is ``section.clients`` client processes, one thread each, together at
``section.rate`` operations a second (open loop, seeded jitter: :func:`pace`). Client
``i`` is bound to node ``i mod N`` (Jepsen's binding: a node that answers when it should
not is asked, not only a leader). Every operation is an invoke line before it is sent and
a completion line after the answer, through :meth:`ClientPool.record`, so a workload only
says what one operation is (:meth:`ClientPool.operate`) and how to reach a node
(:meth:`ClientPool.connect`): the kv workload (:mod:`chaoslab.chaos.workload`) and
Maelstrom's echo, broadcast and g-counter workloads
(``chaoslab/algorithms/maelstrom/adapters/workloads.py``) are such subclasses.

An operation that got no answer is ``fail`` when it changes nothing (a read, an echo: "did
not happen" is always a correct account of it) or when it surely never arrived
(:class:`~chaoslab.client.NotAcknowledged` with ``unknown`` False); otherwise ``info``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chaoslab.client import NotAcknowledged
from chaoslab.errors import LabError

if TYPE_CHECKING:
    from chaoslab.chaos.history import HistoryRecorder
    from chaoslab.chaos.scenario import WorkloadSection

__all__ = ["JITTER", "READ_ONLY", "ClientPool", "Outcome", "pace", "poll", "unanswered", "weighted"]

#: Jitter of a client's interval between operations: each is interval * (1 ± this), drawn from its rng.
JITTER = 0.25
#: Operations that change nothing: their completion's value is the answer (what was read, what an
#: echo brought back), never the invoke's, and one that got no answer is ``fail``, never ``info``.
READ_ONLY = frozenset({"read", "get", "echo"})
#: Pause between two tries of a final read against a cluster that does not answer yet.
POLL_PAUSE_S = 0.05

Outcome = tuple[str, Any, str, str]
"""(type, value, node, error): a completion as :meth:`HistoryRecorder.complete` takes it."""


def pace(due: float, interval: float, rng: random.Random, now: float) -> float:
    """When the next operation is due: a fixed interval with seeded jitter, open loop.

    An operation that overran (a timeout) leaves the client behind schedule; it
    catches up by at most one interval (two operations back to back), never by
    a burst that would hammer a cluster just back from a fault.
    """
    return max(due + interval * (1.0 + JITTER * (2.0 * rng.random() - 1.0)), now - interval)


def unanswered(f: str, error: BaseException | None) -> Outcome:
    """The completion of ``f`` that got no answer, only ``error``: unknown (``info``) when it
    may have taken effect, ``fail`` when it changes nothing or surely never arrived."""
    unknown = isinstance(error, NotAcknowledged) and error.unknown and f not in READ_ONLY
    return ("info" if unknown else "fail"), None, "", str(error) if error is not None else "no answer"


def weighted(mix: Mapping[str, float], ops: Sequence[str]) -> tuple[list[str], list[float]]:
    """The operations of ``ops`` that ``mix`` gives a weight above 0, and those weights
    (``LabError`` for an operation not in ``ops``, or no weight at all)."""
    unknown = sorted(set(mix) - set(ops))
    if unknown:
        raise LabError(f"workload mix: unknown operation {unknown[0]!r} (known: {', '.join(ops)})")
    fs = [f for f in ops if mix.get(f, 0) > 0]
    if not fs:
        raise LabError("workload mix gives no operation a weight above 0")
    return fs, [mix[f] for f in fs]


def poll(deadline: float, attempt: Callable[[], bool]) -> bool:
    """Call ``attempt`` until it returns True or ``deadline`` (monotonic) passes; at least once.

    Final reads use it: a cluster just healed may need a moment to answer, or to converge.
    """
    while True:
        if attempt():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_PAUSE_S)


class ClientPool:
    """``section.clients`` client threads at ``section.rate`` operations a second in all.

    Subclasses define :meth:`connect` (a client for one process, bound to its node) and
    :meth:`operate` (one operation, recorded through :meth:`record`). :meth:`stop` issues
    nothing more and turns operations still in flight into ``info``.
    """

    def __init__(self, cluster: Any, section: WorkloadSection, rng: random.Random, recorder: HistoryRecorder) -> None:
        if section.clients < 1:
            raise LabError(f"workload needs at least one client, got {section.clients}")
        if not section.rate > 0 or not section.timeout > 0:
            raise LabError(f"workload rate and timeout must be above 0, got {section.rate:g} and {section.timeout:g}")
        self.cluster = cluster
        self.section = section
        self.recorder = recorder
        # One stream a client, drawn now: which operations a client issues depends on the seed
        # only, however the threads interleave.
        self._seeds = [rng.getrandbits(64) for _ in range(section.clients)]
        self._stop = threading.Event()
        self._lock = threading.Lock()  # orders the stop flag against invokes, guards _open and _counts
        self._threads: list[threading.Thread] = []
        self._open: dict[int, int] = {}  # process -> handle of its operation in flight
        self._counts = {"invoke": 0, "ok": 0, "fail": 0, "info": 0}
        self.errors: list[str] = []  # unexpected exceptions in client threads (each also an info/fail line)

    # ------------------------------------------------------------------ what a subclass says

    def connect(self, process: int, home: str | None) -> Any:
        """The client process ``process`` uses, bound to node ``home``; closed (if it has
        ``close``) when its thread ends."""
        raise NotImplementedError

    def operate(self, process: int, client: Any, rng: random.Random) -> None:
        """Issue one operation of ``process`` through :meth:`record` (which does nothing once stopped)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ control

    def home(self, process: int) -> str | None:
        """The node client ``process`` is bound to: node ``process mod N``."""
        nodes = list(self.cluster.node_ids)
        return nodes[process % len(nodes)] if nodes else None

    def start(self) -> None:
        """Start the client threads; each issues ``rate / clients`` operations a second."""
        if self._threads:
            raise LabError("the workload has already started")
        for process in range(self.section.clients):
            client = self.connect(process, self.home(process))
            thread = threading.Thread(target=self._loop, args=(process, client), name=f"chaos-client-{process}",
                                      daemon=True)
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Issue nothing more; wait up to ``timeout`` s for operations in flight; any left become ``info``."""
        with self._lock:
            self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            stuck = dict(self._open)
        for process, handle in stuck.items():
            self._complete(process, handle, ("info", None, "", "client still waiting when the workload stopped"))

    def counts(self) -> dict[str, int]:
        """This workload's lines by type: ``{"invoke", "ok", "fail", "info"}`` (final reads included)."""
        with self._lock:
            return dict(self._counts)

    # ------------------------------------------------------------------ one operation

    def record(self, process: int, f: str, key: Any, value: Any, send: Callable[[], tuple[Outcome, Any]],
               *, final: bool = False) -> tuple[Outcome, Any] | None:
        """Invoke ``f``, run ``send`` (returning the completion and the raw answer), complete it.

        An exception from ``send`` becomes a completion too (:func:`unanswered` for a
        :class:`LabError`; any other is kept in :attr:`errors`). Returns None, recording
        nothing, once the workload stopped, unless ``final`` (the final reads come after).
        """
        with self._lock:
            if self._stop.is_set() and not final:
                return None
            handle = self.recorder.invoke(process, f, key, value)
            self._open[process] = handle
            self._counts["invoke"] += 1
        try:
            done, answer = send()
        except LabError as exc:  # NotAcknowledged, or a request the node called bad
            done, answer = unanswered(f, exc), None
        except Exception as exc:  # noqa: BLE001 - a client thread must close its operation whatever happens
            self.errors.append(f"{type(exc).__name__}: {exc}")
            kind = "fail" if f in READ_ONLY else "info"
            done, answer = (kind, None, "", f"client error: {type(exc).__name__}: {exc}"), None
        self._complete(process, handle, done)
        return done, answer

    def _complete(self, process: int, handle: int, done: Outcome) -> bool:
        """Record a completion unless :meth:`stop` already gave up on the operation (whoever takes
        it out of ``_open`` completes it, so it is completed once)."""
        with self._lock:
            if self._open.get(process) != handle:
                return False
            del self._open[process]
            self._counts[done[0]] += 1
        kind, value, node, error = done
        self.recorder.complete(handle, kind, value, node=node, error=error)
        return True

    def _loop(self, process: int, client: Any) -> None:
        rng = random.Random(self._seeds[process])
        interval = self.section.clients / self.section.rate
        due = time.monotonic() + rng.uniform(0, interval)  # clients start staggered
        try:
            while not self._stop.wait(max(0.0, due - time.monotonic())):
                self.operate(process, client, rng)
                due = pace(due, interval, rng, time.monotonic())
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()
