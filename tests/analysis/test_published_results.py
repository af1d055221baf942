"""The published studies in results/ still read as they were published, and README says so.

`python -m analysis` run today on a committed storage must give its committed verdict: a change
to loading, the verdict or the storage contract that silently alters what the tool reads out
of its own published study fails here. Two folders: the first publication (its storage as
published, analysed with today's method) and the re-publication (results/fashion_mnist/),
whose answer the README's front page shows. The front page's numbers are copied by hand from
the `verdict.json` of the folder it shows; they must be its figures, and the first
publication's anytime interval stays beside whichever that is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis.cli import main as analysis_main

RESULTS = Path(__file__).parents[2] / "results"
FIRST_PUBLICATION = RESULTS / "fashion_mnist_first_publication"
REPUBLICATION = RESULTS / "fashion_mnist"
FRONT_PAGE = REPUBLICATION  # the answer README shows (decided at 30 pairs, 2026-12-04)
FOLDERS = [FIRST_PUBLICATION, REPUBLICATION]
STUDY_NAME = "fashion_mnist"
README = RESULTS.parent / "README.md"


def _published(folder: Path) -> dict:
    return json.loads((folder / "verdict.json").read_text())


@pytest.fixture(scope="module", params=FOLDERS, ids=lambda folder: folder.name)
def published_and_reproduced(request, tmp_path_factory: pytest.TempPathFactory
                             ) -> tuple[dict, dict]:
    """The committed verdict, and the analysis of a copy of the committed storage (analysis
    writes a note into it)."""
    folder = tmp_path_factory.mktemp("published")
    shutil.copyfile(request.param / "study.db", folder / "study.db")
    argv = ["--storage", f"sqlite:///{folder / 'study.db'}", "--study-name", STUDY_NAME,
            "--out", str(folder / "out"), "--importance-seeds", "1", "--no-note"]
    assert analysis_main(argv) == 0
    return _published(request.param), json.loads((folder / "out" / "verdict.json").read_text())


def test_the_front_page_study_is_the_confirmed_one():
    published = _published(FRONT_PAGE)
    assert published["study_name"] == STUDY_NAME
    assert published["source"] == "confirm" and not published["provisional"]


@pytest.mark.parametrize("key", ["verdict", "source", "n_per_position", "margin", "paired"])
def test_the_analysis_reproduces_the_published_verdict(published_and_reproduced, key):
    published, reproduced = published_and_reproduced
    assert reproduced[key] == published[key]


@pytest.mark.parametrize("key", ["difference", "ci_low", "ci_high", "tost_ci90_low",
                                 "tost_ci90_high"])
def test_the_analysis_reproduces_the_published_interval(published_and_reproduced, key):
    published, reproduced = published_and_reproduced
    assert reproduced[key] == pytest.approx(published[key], abs=1e-9)


def _points(fraction: float) -> str:
    """A difference in percentage points as README writes it: −1.25, +0.23."""
    return f"{100 * fraction:+.2f}".replace("-", "\N{MINUS SIGN}")


def _front_page_answer() -> str:
    """README's "The answer so far" section, its line breaks undone."""
    answer = README.read_text().split("## The answer so far", 1)[1].split("\n## ", 1)[0]
    return " ".join(answer.split())


def _anytime_interval(published: dict) -> str:
    """A published difference and its anytime interval as README writes them."""
    return (f"{_points(published['difference'])} pp, anytime-valid 95% interval "
            f"[{_points(published['ci_low'])}, {_points(published['ci_high'])}] pp")


def test_the_front_page_states_the_published_difference_interval_and_verdict():
    published = _published(FRONT_PAGE)
    answer = _front_page_answer()
    n = published["n_per_position"]
    assert f"{n['before']} reruns of the best \"before\" configuration" in answer
    assert f"{n['after']} of the best \"after\" one" in answer
    assert f"**{_anytime_interval(published)}: {published['verdict']}**" in answer
    assert f"±{100 * published['margin']:.1f} pp margin" in answer
    assert f"]({FRONT_PAGE.relative_to(RESULTS.parent)}/verdict.png)" in answer


def test_the_front_page_keeps_the_first_publications_anytime_interval():
    """What the first publication's reruns give under today's method stays on the front page,
    beside the re-publication's answer once that one is shown."""
    assert _anytime_interval(_published(FIRST_PUBLICATION)) in _front_page_answer()
