"""The cluster file: what a cluster runs and on which ports, as every process reads it.

The lab builds a :class:`ClusterSpec` from the user's intent
(:func:`chaoslab.lab.spec.build_spec`) and saves it as ``spec.json``; the
supervisor adds the ports it bound and saves ``cluster.json``, the one file
the node and proxy processes read to find their peers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaoslab.errors import LabError

HOST = "127.0.0.1"  # every node and the proxy bind here only


def node_ids(count: int) -> list[str]:
    """The ids of a cluster of ``count`` nodes: ``n1`` .. ``nN`` (the simulator's too)."""
    return [f"n{i}" for i in range(1, count + 1)]


@dataclass
class NodeAddress:
    id: str
    port: int  # the node's own gRPC server (peer stream, Node, KV)
    proxy_port: int  # where peers send to reach it


@dataclass
class ClusterSpec:
    name: str
    algorithm: str
    nodes: int
    seed: int
    config: dict[str, Any] = field(default_factory=dict)  # the algorithm's section
    base_port: int = 0  # 0: pick free ports
    #: link faults in force from the start, as the CLI writes them ("drop 30%"); the supervisor
    #: hands them to the proxy before any node starts
    faults: list[str] = field(default_factory=list)
    addresses: list[NodeAddress] = field(default_factory=list)

    @property
    def node_ids(self) -> list[str]:
        return node_ids(self.nodes)

    def address(self, node_id: str) -> NodeAddress:
        for a in self.addresses:
            if a.id == node_id:
                return a
        raise KeyError(node_id)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ClusterSpec:
        raw = json.loads(text)
        raw["addresses"] = [NodeAddress(**a) for a in raw.get("addresses", [])]
        return cls(**raw)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ClusterSpec:
        """The cluster file at ``path``; LabError (one line) when it is missing or not one."""
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LabError(f"{path} is missing: the run directory is incomplete (`chaoslab down` removes it)") from None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            # ValueError covers bad JSON and bad UTF-8; TypeError, KeyError and AttributeError
            # valid JSON of the wrong shape
            what = exc.strerror if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}".splitlines()[0]
            raise LabError(f"{path} is not a readable cluster file ({what}); `chaoslab down` removes the run directory") from None
