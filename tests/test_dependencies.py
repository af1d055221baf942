"""The direction of imports between the packages: `study` writes, `analysis` reads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_study_and_search_spaces_never_import_analysis():
    offenders = {str(path.relative_to(ROOT)): sorted(
        name for name in _imported_modules(path) if name.split(".")[0] == "analysis")
        for package in ("study", "search_spaces") for path in (ROOT / package).rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_contract_loads_nothing_heavy():
    code = ("import sys, study.contract; heavy = {'keras', 'tensorflow', 'pandas', 'optuna', "
            "'analysis'} & set(sys.modules); print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"
