"""Regenerates gen/ from proto/: messages, .pyi stubs, gRPC stubs and Envoy's descriptor set.

    python scripts/gen_protos.py           # write gen/
    python scripts/gen_protos.py --check   # exit 1 when gen/ differs from what proto/ produces

google/api and google/rpc come from the installed googleapis-common-protos package, the well-known
types from grpcio-tools, so nothing third-party is copied into the repository.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from google.api import annotations_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
GEN = ROOT / "gen"
DESCRIPTOR = "paymesh/descriptor.binpb"


def include_paths() -> list[Path]:
    googleapis = Path(annotations_pb2.__file__).resolve().parents[2]
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    return [PROTO, googleapis, well_known]


def plugin(name: str) -> str:
    """A protoc plugin installed beside this Python (mypy-protobuf's), found without PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found: install the dev dependencies (pip install -e '.[dev]')")
    return found


def generate(out: Path) -> None:
    sources = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "paymesh").mkdir(exist_ok=True)
    args = ["protoc", *(f"-I{p}" for p in include_paths()),
            f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}",
            f"--plugin=protoc-gen-mypy_grpc={plugin('protoc-gen-mypy_grpc')}",
            f"--mypy_grpc_out={out}",
            "--include_imports", "--include_source_info",
            f"--descriptor_set_out={out / DESCRIPTOR}", *sources]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    for folder in [out / "paymesh", *(p for p in (out / "paymesh").rglob("*") if p.is_dir())]:
        if folder.name != "__pycache__":
            (folder / "__init__.py").touch()


def differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"only in {cmp.left}: {n}" for n in cmp.left_only]
    out += [f"only in {cmp.right}: {n}" for n in cmp.right_only]
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    out += [f"differs: {Path(a, n).relative_to(a.parent)}" for n in mismatch + errors]
    for sub in cmp.common_dirs:
        out += differences(a / sub, b / sub)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "gen"
        generate(fresh)
        if check:
            diff = differences(GEN / "paymesh", fresh / "paymesh") if GEN.exists() else ["no gen/"]
            if diff:
                print("gen/ is out of date; run: python scripts/gen_protos.py", *diff, sep="\n")
                sys.exit(1)
            print("gen/ is up to date")
            return
        shutil.rmtree(GEN / "paymesh", ignore_errors=True)
        shutil.copytree(fresh / "paymesh", GEN / "paymesh")
        print(f"generated {GEN.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
