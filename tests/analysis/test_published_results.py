"""The published study in results/fashion_mnist/ still reads as it was published.

`python -m analysis` run today on the committed storage must give the committed verdict: a
change to loading, the verdict or the storage contract that silently alters what the tool
reads out of its own published study fails here.
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
