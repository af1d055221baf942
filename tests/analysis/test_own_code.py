"""The analysis's public face, used from a user's own script exactly as docs/own_code.md shows
it: a plain Optuna study, minimised, analysed through `analysis.analyze`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "own_code.md"
SECTION = "## The analysis of an Optuna study"


def _script() -> str:
    """The first python block of the doc's analysis section."""
    section = DOC.read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    (script,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[:1]
    return script


@pytest.mark.slow
def test_the_documented_analysis_runs_as_written(tmp_path):
    (tmp_path / "my_analysis.py").write_text(_script())

    done = subprocess.run([sys.executable, "my_analysis.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-2000:]
    verdict, direction = done.stdout.splitlines()[-2:]
    assert verdict.startswith("Verdict (provisional, from the search): matters - adam minus sgd "
                              "= -0.")
    assert " nats, 95% CI [" in verdict and direction == "lower is better: True"
    record = json.loads((tmp_path / "optimizer_report" / "verdict.json").read_text())
    assert record["objective"] == {"name": "objective value", "direction": "minimize",
                                   "units": "nats"}
    assert "lower is better" in (tmp_path / "optimizer_report" / "report.md").read_text()


def test_the_package_top_exports_the_analysis_without_loading_matplotlib(loaded_after):
    assert loaded_after("import analysis", {"matplotlib", "optuna", "pandas"}) == []
    assert loaded_after("from analysis import analyze, verdict_sentence", {"matplotlib"}) == []
