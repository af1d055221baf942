"""The longer budgets of the published Fashion-MNIST family read as they were published.

The family (issue 39) grows in results/fashion_mnist/study.db as the long run goes: the member
`fashion_mnist/epochs-E` beside the published 8-epoch study, its report in
results/fashion_mnist/epochs-E/. Where both are committed, analysing a copy of the storage
today must give the committed verdict.json, as tests/analysis/test_published_results.py checks
for the 8-epoch study; and where budgets.md is committed, its sentence on the budget (and the
numbers of budgets.json). Until a
member is published, its test skips.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from analysis.cli import main as analysis_main
from study.engine.budgets import member_name

FOLDER = Path(__file__).parents[2] / "results" / "fashion_mnist"
FAMILY = "fashion_mnist"
# Each member with a committed report; 16 epochs at least, so the skip shows until it is.
BUDGETS = sorted({16} | {int(path.parent.name.removeprefix("epochs-"))
                         for path in FOLDER.glob("epochs-*/verdict.json")
                         if path.parent.name.removeprefix("epochs-").isdigit()})


def _stored_studies() -> set[str]:
    """The study names the committed storage holds (read with sqlite3: nothing is written)."""
    if not (FOLDER / "study.db").is_file():
        return set()
    with closing(sqlite3.connect(f"file:{FOLDER / 'study.db'}?mode=ro", uri=True)) as db:
        return {name for (name,) in db.execute("SELECT study_name FROM studies")}


def _analysed(tmp_path: Path, *arguments: str) -> Path:
    """Analyses a copy of the committed storage (analysis writes a note into it)."""
    shutil.copyfile(FOLDER / "study.db", tmp_path / "study.db")
    out = tmp_path / "out"
    assert analysis_main(["--storage", f"sqlite:///{tmp_path / 'study.db'}", "--out", str(out),
                          "--importance-seeds", "1", "--no-note", *arguments]) == 0
    return out


@pytest.mark.parametrize("epochs", BUDGETS, ids=lambda epochs: f"epochs-{epochs}")
def test_the_analysis_reproduces_each_published_longer_budget(epochs, tmp_path):
    name = member_name(FAMILY, epochs, first=False)
    published = FOLDER / f"epochs-{epochs}" / "verdict.json"
    if not published.is_file() or name not in _stored_studies():
        pytest.skip(f"{name} is not published yet (no {published.relative_to(FOLDER.parents[1])} "
                    "beside its study in results/fashion_mnist/study.db)")

    expected = json.loads(published.read_text())
    reproduced = json.loads((_analysed(tmp_path, "--study-name", name) / "verdict.json"
                             ).read_text())

    for key in ("study_name", "verdict", "source", "n_per_position", "margin", "paired"):
        assert reproduced[key] == expected[key], key
    for key in ("difference", "ci_low", "ci_high", "tost_ci90_low", "tost_ci90_high"):
        assert reproduced[key] == pytest.approx(expected[key], abs=1e-9), key


def test_the_published_family_says_the_same_of_the_budget(tmp_path):
    published = FOLDER / "budgets.md"
    if not published.is_file():
        pytest.skip("results/fashion_mnist/budgets.md is not published yet")

    out = _analysed(tmp_path, "--study-name", FAMILY, "--budgets")

    sentence = published.read_text().splitlines()[2]  # the bold line under the title
    assert (out / "budgets.md").read_text().splitlines()[2] == sentence
    record = FOLDER / "budgets.json"  # published beside budgets.md since 2026-12-08
    if record.is_file():
        expected = json.loads(record.read_text())
        reproduced = json.loads((out / "budgets.json").read_text())
        # Nothing in it is drawn at random: the same storage gives the same numbers, exactly.
        for key in ("family", "question", "margin", "dependence", "sentence", "plateau",
                    "members"):
            assert reproduced[key] == expected[key], key
