"""What the image builds is what the package declares: every top-level package reaches the Dockerfile.

A new top-level package (``vocabulary/`` was one) that the Dockerfile does not copy installs fine here and
breaks only in the image, at the first import; this catches it before a deployment does.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_every_declared_package_is_copied_into_the_image() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (REPO / "Dockerfile").read_text(), flags=re.M))
    assert declared == copied
    on_disk = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert on_disk == declared, "a top-level package exists that the project does not declare (or the reverse)"
