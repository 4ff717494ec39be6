"""The import rules are contracts that fail, not advice: the tree keeps them, and a wrong arrow breaks them.

Each wrong import below is written into a copy of the packages, and ``lint-imports`` (the same command
``make lint`` runs, with the same ``pyproject.toml`` contracts) must then fail naming the broken rule.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PACKAGES = ("bot", "handlers", "routing", "cache", "vocabulary")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken"),
    [
        ("cache/values.py", "import bot.ledger", "routing | cache -> vocabulary"),
        ("routing/spend/cost.py", "import cache.text", "routing | cache -> vocabulary"),
        ("vocabulary/__init__.py", "import routing.catalog", "routing | cache -> vocabulary"),
        ("handlers/mentions.py", "import bot.assistant.orchestrator", "value types, never its machinery"),
        ("bot/slack/people.py", "import bot.assistant.prompts", "no cycles between the rooms"),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path: Path, module: str, wrong_import: str, broken: str) -> None:
    root = _copy(tmp_path)
    target = root / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # deliberately wrong\n")
    result = _lint(root)
    assert result.returncode != 0, result.stdout
    assert broken in result.stdout and "BROKEN" in result.stdout
