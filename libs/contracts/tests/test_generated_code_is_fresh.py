"""The committed generated code is exactly what proto/generate.py makes of proto/.

A failure here means a .proto changed without ``make proto`` (or generated code was
edited by hand): run ``make proto`` and commit the result.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
GENERATOR = REPO / "proto" / "generate.py"
COMMITTED = REPO / "libs" / "contracts" / "src" / "crm"


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def regenerate(out: Path) -> dict[str, bytes]:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True)
    return tree(out / "crm")


def test_committed_generated_code_matches_the_proto_files(tmp_path: Path) -> None:
    fresh = regenerate(tmp_path)
    committed = tree(COMMITTED)
    assert sorted(committed.keys() - fresh.keys()) == [], "stale files: run make proto"
    assert sorted(fresh.keys() - committed.keys()) == [], "missing files: run make proto"
    changed = sorted(name for name in fresh if fresh[name] != committed[name])
    assert changed == [], "out of date: run make proto"


def test_generation_is_deterministic(tmp_path: Path) -> None:
    assert regenerate(tmp_path / "a") == regenerate(tmp_path / "b")


def test_generation_removes_files_it_no_longer_makes(tmp_path: Path) -> None:
    stale = tmp_path / "crm" / "old" / "v1" / "gone_pb2.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("")
    assert "old/v1/gone_pb2.py" not in regenerate(tmp_path)
    assert not stale.parent.exists()
