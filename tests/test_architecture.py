"""The rooms of the code and who may import whom, checked on the real import graph."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("core", "service", "worker", "filterscope")
MAX_MODULE_LINES = 300


def test_the_import_contracts_hold():
    # Contracts in pyproject.toml: the core imports neither side; the API never imports the worker
    # or TensorFlow; the worker never imports the API; the engine imports neither Redis nor HTTP.
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    out = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_no_module_is_over_300_lines():
    long = {str(path.relative_to(ROOT)): count for package in PACKAGES for path in (ROOT / package).rglob("*.py")
            if (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, long
