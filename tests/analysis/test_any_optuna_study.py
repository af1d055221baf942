"""`analysis.analyze` on studies bnstudy did not write: plain `optuna.create_study` +
`study.optimize` of a cheap objective (`toy_loss` in conftest), minimised or maximised, values
in nats, the categorical parameter named by the caller; and nothing written into the study."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import optuna
import pytest

import analysis
from analysis.reading.objective import Objective
from study.private_api import study_storage

LOSS, SCORE = "loss", "score"  # plain_db's studies: toy_loss minimised, maximised (conftest.py)
SGD_PENALTY = 0.5  # nats: how much worse "sgd" is than "adam" in toy_loss (conftest.py)
FAST = {"importance_seeds": (0,), "n_trees": 8}
MARGIN = 0.1  # nats: SGD_PENALTY is five times it


@pytest.fixture(scope="module")
def minimised(plain_study) -> optuna.Study:
    return plain_study("minimize")


def _analyse(study: optuna.Study, **options: object) -> analysis.Analysis:
    settings = {"param": "optimizer", "reference": "sgd", "margin": MARGIN, "units": "nats",
                **FAST, **options}
    return analysis.analyze(study, **settings)


def test_a_minimised_study_reads_lower_as_better(minimised):
    result = _analyse(minimised)

    c = result.comparison
    assert result.source == "search" and c.verdict == "matters"
    assert c.labels == ("sgd", "adam")
    # adam is the better optimizer: its loss is lower, so adam - sgd is negative.
    assert c.difference < -SGD_PENALTY / 2 and c.ci_high < -MARGIN
    assert c.mean_after < c.mean_before
    best = result.isolation.set_index("optimizer")
    for value in ("sgd", "adam"):
        losses = [t.value for t in minimised.trials if t.params["optimizer"] == value]
        assert best.loc[value, "best_value"] == min(losses)
    curves = {curve.placement: curve for curve in result.curves}
    assert all(curve.mean[-1] <= curve.mean[0] for curve in curves.values())  # expected min
    assert set(result.leaders["leader"]) == {"adam"}
    assert result.loaded.objective == Objective(
        name="objective value", lower_is_better=True, units="nats")


def test_the_same_study_maximised_gives_the_mirrored_verdict(minimised, plain_study):
    low = _analyse(minimised).comparison
    high = _analyse(plain_study("maximize")).comparison  # values are -loss

    assert high.verdict == low.verdict
    assert high.difference == pytest.approx(-low.difference, abs=1e-12)
    assert (high.ci_low, high.ci_high) == pytest.approx((-low.ci_high, -low.ci_low), abs=1e-9)
    assert (high.tost_low, high.tost_high) == pytest.approx((-low.tost_high, -low.tost_low),
                                                            abs=1e-9)
    assert high.tost_p_value == pytest.approx(low.tost_p_value)
    assert high.prob_after_greater == pytest.approx(1 - low.prob_after_greater)


def test_a_storage_and_name_read_as_the_study_object(plain_url):
    by_name = _analyse(plain_url, study_name=LOSS)
    by_object = _analyse(optuna.load_study(study_name=LOSS, storage=plain_url))

    assert by_name.study_name == by_object.study_name == LOSS
    assert by_name.comparison.difference == by_object.comparison.difference
    assert by_name.comparison.ci_low == by_object.comparison.ci_low


def test_the_reference_decides_the_sign_and_defaults_to_the_first_choice(minimised):
    swapped = _analyse(minimised, reference="adam").comparison
    first = _analyse(minimised, reference=None).comparison  # choices: ["sgd", "adam"]

    assert swapped.labels == ("adam", "sgd") and swapped.difference > 0
    assert first.labels == ("sgd", "adam") and first.difference < 0


def test_values_that_are_not_fractions_read_in_their_units(minimised):
    result = _analyse(minimised)
    sentence = analysis.verdict_sentence(result)

    assert "pp" not in sentence
    assert f"adam minus sgd = {result.comparison.difference:+.4g} nats" in sentence
    assert result.comparison.seeds_needed is None  # no seed spread assumed in nats


def test_without_units_the_values_keep_the_objectives_own(minimised):
    result = _analyse(minimised, units=None)

    assert result.loaded.objective.units == ""
    assert f"= {result.comparison.difference:+.4g}, " in analysis.verdict_sentence(result)


def test_an_interval_the_trials_cannot_bound_is_said_to_be(plain_study):
    trials = plain_study("minimize").trials
    few = optuna.create_study(direction="minimize")
    few.add_trials([next(t for t in trials if t.params["optimizer"] == value)
                    for value in ("sgd", "adam", "sgd", "adam")])  # two of each

    result = _analyse(few)

    assert math.isinf(result.comparison.ci_low) or math.isinf(result.comparison.ci_high)
    assert "not yet bounded" in analysis.verdict_sentence(result)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _attrs(study: optuna.Study) -> tuple[dict, dict]:
    """The study's system attributes (where notes and artifacts are recorded) and user ones."""
    storage = study_storage(study)
    return (storage.get_study_system_attrs(storage.get_study_id_from_name(study.study_name)),
            dict(study.user_attrs))


def test_nothing_is_written_into_the_study_or_its_storage(plain_url, tmp_path):
    path = Path(plain_url.removeprefix("sqlite:///"))
    before = _digest(path), path.stat().st_mtime_ns
    study = optuna.load_study(study_name=LOSS, storage=plain_url)
    attrs = _attrs(study)

    result = _analyse(study)
    written = analysis.write_outputs(result, tmp_path / "report")

    assert _attrs(optuna.load_study(study_name=LOSS, storage=plain_url)) == attrs
    assert (_digest(path), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["plain.db", "report"]
    assert written.report.is_file()


def test_an_in_memory_study_is_left_as_it_was(minimised):
    attrs = _attrs(minimised)
    trials = [(t.number, t.state, t.value, t.params) for t in minimised.trials]

    _analyse(minimised)

    assert _attrs(minimised) == attrs
    assert [(t.number, t.state, t.value, t.params) for t in minimised.trials] == trials


def test_the_report_states_the_units_and_the_direction(minimised, tmp_path):
    written = analysis.write_outputs(_analyse(minimised), tmp_path)

    report = written.report.read_text()
    assert "Values: objective value, in nats; lower is better." in report
    assert "margin of ±0.1 nats" in report and " pp" not in report
    assert "optimizer=adam is ahead (lower is better)" in report
    assert "study.confirm" not in report  # bnstudy's reruns cannot retrain someone's study
    record = json.loads(written.verdict.read_text())
    assert record["objective"] == {"name": "objective value", "direction": "minimize",
                                   "units": "nats"}
    assert record["verdict"] == "matters" and record["difference"] < 0


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_metric_name_names_the_values(plain_study):
    study = plain_study("minimize")
    study.set_metric_names(["val_loss"])

    result = _analyse(study)

    assert result.loaded.objective.name == "val_loss"


def test_the_maximised_score_is_read_from_the_shared_file(plain_url):
    result = _analyse(plain_url, study_name=SCORE)

    assert not result.loaded.objective.lower_is_better
    assert result.comparison.difference > SGD_PENALTY / 2  # adam's score is higher
