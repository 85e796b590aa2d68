"""Regenerate the Python code and type stubs of every .proto file under proto/.

Usage: ``python proto/generate.py [--out DIR]`` (``make proto``). The default output
is ``libs/contracts/src``; the generated package is ``DIR/crm``, which this script owns
completely: files it no longer produces are removed. The output depends only on the
.proto files and the pinned grpcio-tools, so a test can regenerate into a temporary
directory and compare.
"""

from __future__ import annotations

import argparse
import importlib.resources
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
DEFAULT_OUT = PROTO_ROOT.parent / "libs" / "contracts" / "src"
PACKAGE = "crm"
# Written into every package directory; hatch and mypy need real packages.
PACKAGE_MARKERS = {"__init__.py": ""}
# Written once, at the package root (PEP 561).
ROOT_MARKERS = {"py.typed": ""}
# protoc's --pyi_out is not `mypy --strict` clean. Rather than exclude the stubs from
# mypy, each stub silences exactly the error codes its known generator quirks cause.
STUB_QUIRKS = (
    # Bare `_Mapping` in message constructors (dict initialisers).
    (re.compile(r"\b_Mapping\]"), "type-arg"),
    # Extensions are declared as module-level `NAME_FIELD_NUMBER: _ClassVar[int]`.
    (re.compile(r"^\w+: _ClassVar\[", re.MULTILINE), "misc"),
)


def proto_files() -> list[str]:
    """Every .proto under proto/, relative and sorted, so protoc sees a stable order."""
    return sorted(path.relative_to(PROTO_ROOT).as_posix() for path in PROTO_ROOT.rglob("*.proto"))


def run_protoc(out: Path) -> None:
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    with importlib.resources.as_file(well_known) as include:
        args = [
            "grpc_tools.protoc",
            f"--proto_path={PROTO_ROOT}",
            f"--proto_path={include}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            *proto_files(),
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed; see the messages above")


def add_markers(package_root: Path) -> None:
    directories = [package_root, *(p for p in package_root.rglob("*") if p.is_dir())]
    for directory in directories:
        for name, content in PACKAGE_MARKERS.items():
            (directory / name).write_text(content)
    for name, content in ROOT_MARKERS.items():
        (package_root / name).write_text(content)


def silence_stub_quirks(package_root: Path) -> None:
    for stub in sorted(package_root.rglob("*.pyi")):
        text = stub.read_text()
        codes = [code for pattern, code in STUB_QUIRKS if pattern.search(text)]
        if codes:
            header = (
                "# protoc --pyi_out quirks, silenced by proto/generate.py (see STUB_QUIRKS).\n"
                f'# mypy: disable-error-code="{",".join(codes)}"\n'
            )
            stub.write_text(header + text)


def relative_files(root: Path) -> set[Path]:
    return {
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def sync(staged: Path, target: Path) -> None:
    """Make ``target`` hold exactly the files of ``staged``; untouched files keep mtimes."""
    wanted = relative_files(staged)
    if target.exists():
        for stale in sorted(relative_files(target) - wanted):
            (target / stale).unlink()
    for relative in sorted(wanted):
        content = (staged / relative).read_bytes()
        destination = target / relative
        if destination.is_file() and destination.read_bytes() == content:
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)
    for directory in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        leftovers = [p for p in directory.iterdir() if p.name != "__pycache__"]
        if not leftovers:
            shutil.rmtree(directory)


def generate(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="crm-proto-") as tmp:
        staging = Path(tmp)
        run_protoc(staging)
        add_markers(staging / PACKAGE)
        silence_stub_quirks(staging / PACKAGE)
        sync(staging / PACKAGE, out / PACKAGE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT,
        help=f"directory that receives the '{PACKAGE}' package (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    generate(args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
