"""SM(m)'s signatures: Ed25519 from the ``cryptography`` package (never hand-rolled).

Ed25519 signing is deterministic, so a simulator seed still names one run. Keys come from
the trusted dealer (:func:`chaoslab.algorithms.byzantine.config.resolve_config`): a lab
shortcut, see the module docstring there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["Signer", "signed_bytes"]


def signed_bytes(instance: str, value: str, path: Sequence[str]) -> bytes:
    """What ``path[-1]`` signs: the agreement, the value, and the chain up to and including itself."""
    return "\x1f".join([instance, value, *path]).encode()


class Signer:
    """One node's private key and every node's public key."""

    def __init__(self, node_id: str, keys: Mapping[str, str]) -> None:
        self.node_id = node_id
        self._private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys[node_id])) if node_id in keys else None
        self._public: dict[str, Ed25519PublicKey] = {
            node: Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)).public_key() for node, seed in keys.items()
        }

    def sign(self, instance: str, value: str, path: Sequence[str]) -> bytes:
        """Sign (instance, value, path) as this node, which must be ``path[-1]``."""
        if self._private is None:
            raise ValueError(f"{self.node_id} has no key (keys are dealt by resolve_config)")
        return self._private.sign(signed_bytes(instance, value, path))

    def verify_chain(self, instance: str, value: str, path: Sequence[str], signatures: Sequence[bytes]) -> bool:
        """Every signer on the path signed the value and the chain up to itself."""
        if len(signatures) != len(path):
            return False
        for k, (signer, signature) in enumerate(zip(path, signatures)):
            key = self._public.get(signer)
            if key is None:
                return False
            try:
                key.verify(bytes(signature), signed_bytes(instance, value, path[: k + 1]))
            except InvalidSignature:
                return False
        return True
