"""The report's selection section, near-tie warning and paired comparison, from stored studies."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest

from analysis.calibration.simulate import write_synthetic_study
from analysis.cli import main as analysis_main
from analysis.reports.markdown import report_markdown
from analysis.study_analysis import analyze
from study.reruns.candidates import top_candidates
from study.stats.sequential import confidence_sequence
from study.storage.contract import CONFIG_ATTR, PLACEMENTS
from study.storage.question import DEFAULT_QUESTION
from study.storage.reruns import (
    SELECT_SEED_BASE,
    RerunSeeds,
    best_trials,
    confirm_study_name,
    rerun_seeds,
    select_study_name,
    store_rerun,
)

# The first publication's storage (results/fashion_mnist/study.db at f08dbc7), kept as it was:
# results/ grows with the re-publication, this copy does not.
FIRST_PUBLICATION = Path(__file__).parents[1] / "data" / "first_publication.db"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    before = _digest(FIRST_PUBLICATION)
    folder = tmp_path_factory.mktemp("first")
    shutil.copyfile(FIRST_PUBLICATION, folder / "study.db")
    assert analysis_main(["--storage", f"sqlite:///{folder / 'study.db'}", "--study-name",
                          "fashion_mnist", "--out", str(folder / "out"), "--no-note",
                          "--importance-seeds", "1"]) == 0
    assert _digest(FIRST_PUBLICATION) == before
    return (folder / "out" / "report.md").read_text()


def test_first_publication_names_trial_20_a_near_tie_of_the_before_pick(first_report):
    warnings = first_report.split("## Warnings", 1)[1].split("\n## ", 1)[0]
    assert ("for bn_position=before, trials 20, 0 within one seed std (2.46 pp) of the pick, "
            "trial 2") in warnings
    assert "| before | 20 | COMPLETE | 0.8698 | - | near-tie |" in first_report
    assert "| before | 2 | COMPLETE | 0.8716 | - | pick |" in first_report
    assert "No selection was run" in first_report


def test_first_publication_warns_about_its_chance_level_trials_and_reads_unpaired(first_report):
    warnings = first_report.split("## Warnings", 1)[1].split("\n## ", 1)[0]
    assert "3 of 27 trials ended at chance accuracy" in warnings
    assert "trials 4 (before, learning_rate 0.417), 15 (after" in warnings
    assert "- unpaired reruns: each value's seeds ran independently" in first_report


@pytest.fixture
def selected_and_paired(tmp_path) -> tuple[str, str]:
    """A synthetic search, a finished 3-seed selection and a paired confirmation of its picks.

    The selection's true means make each placement's second candidate the pick; the paired
    reruns share a seed effect (std 1 pp) on top of 0.2 pp of own noise, "after" +1 pp.
    """
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    search = write_synthetic_study(url, "s", effect=0.01, n_trials=24, seed=2)
    candidates = top_candidates(search.trials, 3, DEFAULT_QUESTION)
    select = optuna.create_study(storage=url, study_name=select_study_name("s"),
                                 direction="maximize")
    select.set_user_attr(CONFIG_ATTR, {"top_k": 3, "seeds": 3})
    for found in candidates.values():
        for rank, trial in enumerate(found):
            for k, seed in enumerate(rerun_seeds(3, SELECT_SEED_BASE)):
                value = 0.80 + (0.01 if rank == 1 else 0.0) + 0.001 * (k - 1)
                store_rerun(select, trial, seed, value, question=DEFAULT_QUESTION, loss=0.5,
                            seconds=1.0, compiled_model="new", dtype_policy="float32",
                            loss_name="val_loss")
    picks = {placement: found[1] for placement, found in candidates.items()}
    confirm = optuna.create_study(storage=url, study_name=confirm_study_name("s"),
                                  direction="maximize")
    confirm.set_user_attr(CONFIG_ATTR, {"pairing": "paired", "vary": "both"})
    rng = np.random.default_rng(0)
    for seed in rerun_seeds(40):
        shared = rng.normal(0, 0.01)
        for placement in PLACEMENTS:
            value = 0.85 + shared + (placement == "after") * 0.01 + rng.normal(0, 0.002)
            store_rerun(confirm, picks[placement], RerunSeeds(seed, seed, seed), float(value),
                        question=DEFAULT_QUESTION, loss=0.4, seconds=1.0, compiled_model="new",
                        dtype_policy="float32",
                        extra={"weights_digest": f"w{seed}" if seed % 4 else f"{placement}"})
    # a rerun whose pair has not run: left out
    lone = best_trials(search, DEFAULT_QUESTION)["before"]
    store_rerun(confirm, lone, RerunSeeds(2000, 2000, 2000), 0.5, question=DEFAULT_QUESTION,
                loss=1.0, seconds=1.0,
                compiled_model="new", dtype_policy="float32")
    return url, "s"


def test_a_selection_shows_each_candidates_search_value_against_its_reruns(selected_and_paired):
    url, name = selected_and_paired
    analysis = analyze(url, name, importance_seeds=(0,), n_trees=8)
    report = report_markdown(analysis, {})

    for placement, selection in analysis.selection.selections.items():
        pick = selection.candidate(selection.pick)
        assert pick.mean == pytest.approx(0.81)
        assert f"| {placement} | {pick.trial} | COMPLETE | {pick.search_value:.4f} | " \
               f"0.8100 ± 0.0010, 3 | pick |" in report
    assert "retrained with new seeds on the validation split" in report


def test_a_finished_selection_is_reported_before_the_confirmation_has_reruns(
        selected_and_paired):
    url, name = selected_and_paired
    optuna.delete_study(study_name=confirm_study_name(name), storage=url)

    analysis = analyze(url, name, importance_seeds=(0,), n_trees=8)

    assert analysis.source == "search" and analysis.selection is not None
    assert "retrained with new seeds on the validation split" in report_markdown(
        analysis, {})


def test_paired_reruns_are_compared_by_their_differences(selected_and_paired):
    url, name = selected_and_paired
    analysis = analyze(url, name, importance_seeds=(0,), n_trees=8)
    c = analysis.comparison

    before, after = (analysis.compared[p]["value"].to_numpy(float) for p in PLACEMENTS)
    assert c.paired and c.n_before == c.n_after == 40
    assert (c.ci_low, c.ci_high) == pytest.approx(confidence_sequence(after, before,
                                                                      paired=True))
    assert c.pair_correlation > 0.9 and c.variance_saved > 0.9
    assert c.verdict == "matters"
    unpaired = confidence_sequence(after, before)
    assert unpaired[0] < c.margin  # unpaired, the same reruns would not clear the margin
    report = report_markdown(analysis, {})
    assert "- paired by seed: 40 pairs, each sharing its data order; 30 of 40 pairs started " \
           "from the same initial weights" in report
    assert f"correlation of the pairs {c.pair_correlation:+.2f}" in report
    assert "rerun(s) whose pair has not run yet are left out" in report
