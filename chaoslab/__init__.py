"""chaoslab: a command-line chaos lab for distributed algorithms."""

from chaoslab.errors import LabError

__all__ = ["Cluster", "LabError"]
__version__ = "0.1.0"


def __getattr__(name: str):  # keep `import chaoslab` light: grpc loads on first use
    if name == "Cluster":
        from chaoslab.lab.cluster import Cluster

        return Cluster
    raise AttributeError(name)
