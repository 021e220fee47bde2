"""Byzantine agreement's one message: a value with the relay path it came along."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ByzantineValue:
    """``value`` as relayed along ``path`` (commander first, the sender last) in agreement
    ``instance`` (``"<commander>:<k>"``). ``round`` is ``len(path) - 1``. In SM(m) ``signatures[k]``
    is ``path[k]``'s Ed25519 signature over (instance, value, ``path[: k + 1]``)."""

    instance: str
    round: int
    value: str
    path: list[str]
    signatures: list[bytes] = field(default_factory=list)


MESSAGE_TYPES = (ByzantineValue,)
