"""The import rules (.importlinter, run by `make test`) hold on the tree, and break on a deliberate violation.

The violations are made in a temporary copy of ``edgeorch/``, never in the tree itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.e2e  # runs lint-imports as a process


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path) -> Path:
    shutil.copytree(ROOT / "edgeorch", tmp_path / "edgeorch", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path)
    return tmp_path


def test_the_tree_keeps_every_import_rule():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    "module, line, contract",
    [
        ("planning/violation.py", "import django.db", "planning is pure Python"),
        ("devices/violation.py", "from edgeorch.jobs import models", "apps import downwards only"),
        ("telemetry/violation.py", "from edgeorch.dashboard import snapshots", "apps import downwards only"),
        (
            "planning/violation.py",
            "def f():\n    from edgeorch.plans import services",
            "planning is pure Python",
        ),
    ],
)
def test_a_deliberate_violation_breaks_its_rule(copy, module, line, contract):
    (copy / "edgeorch" / module).write_text(line + "\n")
    result = lint(copy)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout


def test_a_cycle_between_two_modules_breaks_the_acyclic_rule(copy):
    (copy / "edgeorch" / "catalog" / "ping.py").write_text("from . import pong\n")
    (copy / "edgeorch" / "catalog" / "pong.py").write_text("def f():\n    from . import ping\n")
    result = lint(copy)
    assert result.returncode != 0 and "No cycles are allowed in edgeorch.catalog" in result.stdout
