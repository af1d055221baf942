"""The published study in results/fashion_mnist/ still reads as it was published.

`python -m analysis` run today on the committed storage must give the committed verdict: a
change to loading, the verdict or the storage contract that silently alters what the tool
reads out of its own published study fails here. The top README's "What we found" table is
written by hand from `verdict.json`; its figures must be the published ones.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis.cli import main as analysis_main

RESULTS = Path(__file__).parents[2] / "results" / "fashion_mnist"
STUDY_NAME = "fashion_mnist"


@pytest.fixture(scope="module")
def published() -> dict:
    return json.loads((RESULTS / "verdict.json").read_text())


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The analysis of a copy of the committed storage (analysis writes a note into it)."""
    folder = tmp_path_factory.mktemp("published")
    shutil.copyfile(RESULTS / "study.db", folder / "study.db")
    argv = ["--storage", f"sqlite:///{folder / 'study.db'}", "--study-name", STUDY_NAME,
            "--out", str(folder / "out"), "--importance-seeds", "1"]
    assert analysis_main(argv) == 0
    return json.loads((folder / "out" / "verdict.json").read_text())


def test_the_published_study_is_the_confirmed_one(published):
    assert published["study_name"] == STUDY_NAME
    assert published["source"] == "confirm" and not published["provisional"]


@pytest.mark.parametrize("key", ["verdict", "source", "n_per_position", "margin"])
def test_the_analysis_reproduces_the_published_verdict(published, reproduced, key):
    assert reproduced[key] == published[key]


@pytest.mark.parametrize("key", ["difference", "ci_low", "ci_high", "tost_ci90_low",
                                 "tost_ci90_high"])
def test_the_analysis_reproduces_the_published_interval(published, reproduced, key):
    assert reproduced[key] == pytest.approx(published[key], abs=1e-9)


README = RESULTS.parents[1] / "README.md"


def _found_table() -> dict[str, list[str]]:
    """The top README's 'What we found' table: each row's first cell -> its other cells."""
    section = README.read_text().split("## What we found", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            first, *others = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[first] = others
    return rows


def _row(table: dict[str, list[str]], start: str) -> tuple[str, list[str]]:
    (key,) = [key for key in table if key.startswith(start)]
    return key, table[key]


def _points(fraction: float) -> str:
    """A difference in percentage points as README writes it: −1.25, +0.23."""
    return f"{100 * fraction:+.2f}".replace("-", "\N{MINUS SIGN}")


def test_readme_states_the_published_reruns(published):
    _, cells = _row(_found_table(), "our reruns of those two")
    n, mean, std = published["n_per_position"], published["mean"], published["std"]
    assert cells[:2] == [f"{mean[p]:.2%} ± {std[p]:.2%} ({n[p]} seeds)"
                         for p in ("before", "after")]


def test_readme_states_the_published_difference_and_verdict(published):
    table = _found_table()
    _, difference = _row(table, "difference after − before")
    low, high = published["ci_low"], published["ci_high"]
    interval = f"{_points(published['difference'])} pp [{_points(low)}, {_points(high)}]"
    assert difference[0] == interval.lstrip("+")
    _, verdict = _row(table, "verdict")
    half_width = f"{100 * (high - low) / 2:.2f} pp"
    assert verdict[0] == f"**{published['verdict']}** (interval half-width {half_width})"
