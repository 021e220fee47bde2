"""Regenerate the committed gRPC/protobuf code from proto/.

    python -m chaoslab.wire.regen           # rewrite chaoslab/v1/*_pb2*.py(i)
    python -m chaoslab.wire.regen --check   # exit 1 if the committed code is stale

The generated modules live in the package as ``chaoslab.v1`` so that the
imports protoc writes (``from chaoslab.v1 import node_pb2``) resolve as is.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"
OUT_PACKAGE = ROOT / "chaoslab" / "v1"

# Lines that name the generator's own version: a different grpcio-tools patch
# release must not make the committed code look stale.
_VERSION_LINE = re.compile(r"(Protobuf Python Version|GRPC_GENERATED_VERSION|_runtime_version\.ValidateProtobufRuntimeVersion|^\s+\d+,\s*$|^\s+'',\s*$)")


def generate(out_root: Path) -> list[Path]:
    """Run protoc on every proto file; return the generated files (relative to out_root)."""
    from grpc_tools import protoc  # dev dependency, imported only here

    import grpc_tools

    protos = sorted(PROTO_DIR.rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(p.relative_to(PROTO_DIR)) for p in protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted(p.relative_to(out_root) for p in (out_root / "chaoslab" / "v1").glob("*_pb2*"))


def _normalise(text: str) -> list[str]:
    return [line for line in text.splitlines() if not _VERSION_LINE.search(line)]


def stale_files() -> list[str]:
    """Names of generated files that differ from what proto/ generates now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        fresh = {p.name: (fresh_root / p).read_text() for p in generate(fresh_root)}
    committed = {p.name: p.read_text() for p in OUT_PACKAGE.glob("*_pb2*")}
    problems = []
    for name in sorted(set(fresh) | set(committed)):
        if name not in committed:
            problems.append(f"{name}: missing")
        elif name not in fresh:
            problems.append(f"{name}: no longer generated")
        elif _normalise(fresh[name]) != _normalise(committed[name]):
            diff = difflib.unified_diff(_normalise(committed[name]), _normalise(fresh[name]), lineterm="", n=0)
            problems.append(f"{name}: differs\n" + "\n".join(list(diff)[:12]))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_files()
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    for old in OUT_PACKAGE.glob("*_pb2*"):
        old.unlink()
    for rel in generate(ROOT):
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
