"""Confirmation reruns against a search study written directly into SQLite, no search run."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import time

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

import study.engine.setup
import study.reruns.training as training_module
from analysis.cli import main as analysis_main
from study.config import ConfigError, preset
from study.confirm import main, run_confirmation
from study.engine.search_run import open_study
from study.reruns.stopping import StopRule
from study.reruns.training import RerunResult
from study.stats.decision import MIN_RERUNS_TO_DECIDE
from study.stats.looks import anytime_verdict, half_width
from study.storage.contract import SCIENTIFIC_PARAM
from study.storage.opener import open_storage
from study.storage.reruns import CONFIRM_SEED_BASE, confirm_study_name, rerun_seeds

SEARCH = "s"
DISTRIBUTIONS = {  # the bn_placement space, as the search stores it
    "bn_position": CategoricalDistribution(["before", "after"]),
    "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
    "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0]),
}
# (bn_position, learning_rate, val_accuracy): the second of each placement is its best.
SEARCH_TRIALS = [("before", 0.01, 0.40), ("before", 0.1, 0.60),
                 ("after", 0.02, 0.45), ("after", 0.2, 0.55)]
BEST = {"before": 1, "after": 3}  # trial numbers


def _search_study(url: str, trials=SEARCH_TRIALS) -> optuna.Study:
    """A search study as `study.search` leaves it, with made-up finished trials."""
    config = preset("smoke", train_size=256, val_size=128, epochs=1, storage=url,
                    study_name=SEARCH)
    study = open_study(config, open_storage(url), dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)
    for position, learning_rate, value in trials:
        study.add_trial(optuna.trial.create_trial(
            params={"bn_position": position, "learning_rate": learning_rate, "alpha": 0.35},
            distributions=DISTRIBUTIONS, value=value))
    return study


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'search.db'}"
    _search_study(url)
    return url


def _fake_training(calls: list):
    def train_and_score(models, params, inputs, config, seeds):
        calls.append((params["bn_position"], seeds.seed))
        return RerunResult(0.5 + seeds.seed % 10 / 100, 1.0, 0.1,
                           [{"loss": 1.0, "accuracy": 0.5}], "digest")
    return train_and_score


def _confirm_trials(url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url).trials


@pytest.fixture
def quick_training(monkeypatch, eager_models):
    """Real training and testing, made quick: eager models (`eager_models`) and a 512-image
    test split; the full test split would add 3 s per rerun."""
    load_data = study.engine.setup.load_data

    def small_test_split(config):
        splits = load_data(config)
        return dataclasses.replace(splits, test_images=splits.test_images[:512],
                                   test_labels=splits.test_labels[:512])

    monkeypatch.setattr(study.engine.setup, "load_data", small_test_split)


@pytest.mark.slow
def test_reruns_best_trial_of_each_placement_then_resumes_without_training(url, quick_training,
                                                                           monkeypatch, tmp_path):
    stream = io.StringIO()

    confirm = run_confirmation(url, SEARCH, 2, stream=stream)

    trials = confirm.trials
    assert len(trials) == 4
    assert confirm.direction == optuna.study.StudyDirection.MAXIMIZE
    search = optuna.load_study(study_name=SEARCH, storage=url)
    for placement, number in BEST.items():
        mine = [t for t in trials if t.params["bn_position"] == placement]
        assert sorted(t.user_attrs["seed"] for t in mine) == rerun_seeds(2)
        for trial in mine:
            assert trial.state == TrialState.COMPLETE
            # Only the scientific parameter is a parameter: the dashboard's importance panel
            # of the reruns then shows it alone; the fixed rest is a user attribute.
            assert trial.params == {"bn_position": placement}
            source = dict(search.trials[number].params)
            del source["bn_position"]
            assert trial.user_attrs["source_params"] == source
            assert trial.user_attrs["weights_seed"] == trial.user_attrs["seed"]
            assert trial.user_attrs["data_seed"] == trial.user_attrs["seed"]
            assert trial.user_attrs["source_trial"] == number
            assert trial.user_attrs["bn_position"] == placement
            assert 0.0 <= trial.value <= 1.0
            # The trial spans the rerun (the dashboard's timeline), training included.
            assert trial.duration.total_seconds() >= trial.user_attrs["train_seconds"] > 0
            # Each epoch's training metrics and its learning curve on the validation split
            # (the test split is scored once, at the end), and the code it ran on.
            history = trial.user_attrs["history"]
            assert len(history) == 1  # the search's epochs
            assert all({"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epoch)
                       for epoch in history)
            assert trial.user_attrs["code_version"]
    # Paired: both placements' rerun of one seed start from the same weights (same width).
    digests = {(t.params["bn_position"], t.user_attrs["seed"]): t.user_attrs["weights_digest"]
               for t in trials}
    for seed in rerun_seeds(2):
        assert digests["before", seed] == digests["after", seed]
    assert digests["before", 1000] != digests["before", 1001]
    assert confirm.user_attrs["config"]["source_trials"] == BEST
    assert confirm.user_attrs["config"]["pairing"] == "paired"
    assert "Rerun 4 of 4: bn_position=after seed=1001 (trial 3)" in stream.getvalue()

    monkeypatch.setattr(training_module, "train_and_score", _fake_training(calls := []))
    started = time.perf_counter()
    again = run_confirmation(url, SEARCH, 2, stream=io.StringIO())

    assert calls == []
    assert len(again.trials) == 4
    assert time.perf_counter() - started < 5

    # The analysis reads the reruns, and takes its verdict from them.
    assert analysis_main(["--storage", url, "--study-name", SEARCH, "--out",
                          str(tmp_path / "report"), "--no-note"]) == 0

    verdict = json.loads((tmp_path / "report" / "verdict.json").read_text())
    assert verdict["source"] == "confirm"
    assert verdict["n_per_position"] == {"before": 2, "after": 2}


def test_interrupted_run_continues_with_the_missing_pairs(url, monkeypatch):
    monkeypatch.setattr(training_module, "train_and_score", _fake_training(calls := []))
    confirm = optuna.create_study(study_name=confirm_study_name(SEARCH), storage=url,
                                  direction="maximize")
    source = optuna.load_study(study_name=SEARCH, storage=url).trials[BEST["before"]]
    confirm.add_trial(optuna.trial.create_trial(
        params=source.params, distributions=source.distributions, value=0.7,
        user_attrs={"seed": CONFIRM_SEED_BASE, "source_trial": source.number}))
    stream = io.StringIO()

    run_confirmation(url, SEARCH, 2, stream=stream)

    assert calls == [("after", 1000), ("before", 1001), ("after", 1001)]
    assert len(_confirm_trials(url)) == 4
    # Named for optuna-dashboard's axes, also when the study was made without a name.
    assert optuna.load_study(study_name=confirm_study_name(SEARCH),
                             storage=url).metric_names == ["test_accuracy"]
    assert "Resuming: 1 of 4 reruns already finished." in stream.getvalue()


def test_more_seeds_later_adds_only_the_new_ones(url, monkeypatch):
    monkeypatch.setattr(training_module, "train_and_score", _fake_training(calls := []))

    run_confirmation(url, SEARCH, 1, stream=io.StringIO())
    run_confirmation(url, SEARCH, 2, stream=io.StringIO())

    assert calls == [("before", 1000), ("after", 1000), ("before", 1001), ("after", 1001)]
    confirm = optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url)
    assert confirm.user_attrs["config"]["seeds"] == [1000, 1001]


def test_by_spread_gives_the_noisier_placement_its_seeds_first_and_resumes(url, monkeypatch):
    def train_and_score(models, params, inputs, config, seeds):
        seed = seeds.seed  # "before" std 0.1, "after" 0.005
        calls.append((params["bn_position"], seed))
        if params["bn_position"] == "before":
            return RerunResult(0.7 + seed % 2 * 0.2, 1.0, 0.1)
        return RerunResult(0.8 + seed % 2 * 0.01, 1.0, 0.1)

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    run_confirmation(url, SEARCH, 9, stream=io.StringIO(), allocation="by-spread",
                     pairing="unpaired")
    first = [(placement, seed) for seed in rerun_seeds(8) for placement in ("before", "after")]
    assert calls == first + [("before", 1008), ("after", 1008)]

    calls.clear()
    stream = io.StringIO()
    confirm = run_confirmation(url, SEARCH, 11, stream=stream, allocation="by-spread",
                               pairing="unpaired")
    assert calls == [("before", 1009), ("before", 1010), ("after", 1009), ("after", 1010)]
    assert "Resuming: 18 of at most 22 reruns already finished." in stream.getvalue()
    assert "Rerun 19 of at most 22: bn_position=before seed=1009" in stream.getvalue()
    assert confirm.user_attrs["config"]["allocation"] == "by-spread"


def test_stops_once_the_interval_is_as_narrow_as_asked_and_a_rerun_of_it_trains_nothing(
        url, monkeypatch):
    def accuracy(placement: str, seed: int) -> float:  # stds about 0.01 and 0.005
        return 0.8 + seed % 2 * (0.02 if placement == "before" else 0.01)

    def train_and_score(models, params, inputs, config, seeds):
        seed = seeds.seed
        calls.append((params["bn_position"], seed))
        return RerunResult(accuracy(params["bn_position"], seed), 1.0, 0.1)

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    stream = io.StringIO()
    run_confirmation(url, SEARCH, 40, stream=stream, allocation="by-spread", pairing="unpaired",
                     stop_at_half_width=0.005)
    widths = []  # the half-width after each rerun, recomputed from the fake accuracies
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    for placement, seed in calls:
        done[placement][seed] = accuracy(placement, seed)
        widths.append(half_width(done))
    narrow = [w is not None and w <= 0.005 for w in widths]
    assert narrow.index(True) == len(calls) - 1  # it stopped at the first narrow enough
    assert len(calls) < 80
    assert "pp asked for: no more reruns." in stream.getvalue()
    confirm = optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url)
    assert confirm.user_attrs["config"]["stop_at_half_width"] == 0.005

    calls.clear()
    run_confirmation(url, SEARCH, 40, stream=(again := io.StringIO()), allocation="by-spread",
                     pairing="unpaired", stop_at_half_width=0.005)
    assert calls == [] and "no more reruns." in again.getvalue()


def test_a_half_width_outside_0_1_is_one_line_error(url, capsys):
    _assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH,
                                    "--stop-at-half-width", "0.5pp"],
                           "argument --stop-at-half-width: invalid float value: '0.5pp'")
    _assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH,
                                    "--stop-at-half-width", "5"],
                           "`stop_at_half_width` must be a fraction of accuracy in (0, 1), "
                           "but got 5.0.")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_refuses_to_mix_reruns_of_another_source_trial(url, monkeypatch):
    monkeypatch.setattr(training_module, "train_and_score", _fake_training([]))
    run_confirmation(url, SEARCH, 1, stream=io.StringIO())
    search = optuna.load_study(study_name=SEARCH, storage=url)
    search.add_trial(optuna.trial.create_trial(
        params={"bn_position": "after", "learning_rate": 0.5, "alpha": 0.35},
        distributions=DISTRIBUTIONS, value=0.9))

    with pytest.raises(ConfigError, match=r"reruns trial 3 for bn_position='after' and the "
                                          r"search's best is now trial 4"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO())


def test_summary_shows_mean_and_std_per_placement_and_the_analysis_command(url, monkeypatch,
                                                                          capsys):
    monkeypatch.setattr(training_module, "train_and_score", _fake_training([]))

    assert main(["--storage", url, "--study-name", SEARCH, "--seeds", "2"]) == 0

    out = capsys.readouterr().out
    assert "bn_position=before: test accuracy 0.5050 ± 0.0071 (mean ± std of 2 seeds)" \
        in out
    assert f"python -m analysis --storage {url} --study-name {SEARCH}" in out


def _assert_one_line_error(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m study.confirm: error: ")
    assert "Traceback" not in err
    assert match in err


def test_missing_sqlite_file_is_one_line_error_and_creates_nothing(tmp_path, capsys):
    path = tmp_path / "absent" / "none.db"

    _assert_one_line_error(capsys, ["--storage", f"sqlite:///{path}", "--study-name", SEARCH],
                           "must name an existing SQLite file")

    assert not path.exists() and not path.parent.exists()


def test_unknown_study_is_one_line_error(url, capsys):
    _assert_one_line_error(capsys, ["--storage", url, "--study-name", "nope"],
                           "'nope' is not there (studies: s)")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_zero_seeds_is_one_line_error(url, capsys):
    _assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH, "--seeds", "0"],
                           "`seeds` must be positive, but got 0.")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_placement_without_complete_trial_is_one_line_error(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'half.db'}"
    _search_study(url, trials=SEARCH_TRIALS[:2])

    _assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH],
                           "has none with bn_position='after'")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_stop_decided_stops_at_the_first_rerun_the_anytime_verdict_decides(url, monkeypatch):
    rng = np.random.default_rng(3)
    drawn = {placement: {seed: float(rng.normal(0.80 + (placement == "after") * 0.015, 0.005))
                         for seed in rerun_seeds(200)} for placement in ("before", "after")}

    def train_and_score(models, params, inputs, config, seeds):
        seed = seeds.seed
        calls.append((params["bn_position"], seed))
        return RerunResult(drawn[params["bn_position"]][seed], 1.0, 0.1)

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    stream = io.StringIO()
    run_confirmation(url, SEARCH, 200, stream=stream, allocation="by-spread", pairing="unpaired",
                     rule=StopRule("decided"))

    verdicts = []  # the anytime verdict after each rerun, recomputed from the draws
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    for placement, seed in calls:
        done[placement][seed] = drawn[placement][seed]
        found = anytime_verdict(done)
        verdicts.append(None if found is None else found[0])
    assert verdicts[-1] == "matters" and "matters" not in verdicts[:-1]
    assert min(len(done["before"]), len(done["after"])) >= MIN_RERUNS_TO_DECIDE
    assert "\"matters\" at a margin of ±0.50 pp; no more reruns." in stream.getvalue()
    # Every rerun line after the first estimates the time left, to the last one and to the
    # first that can decide (from the mean time so far).
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("Rerun ")]
    assert "; about" not in lines[0]
    assert all(re.search(r"; about .+ left at most, about .+ until it can first decide \(30 "
                         r"each\)$", line) for line in lines[1:60])
    assert all(line.endswith(" left at most") for line in lines[60:])
    record = optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url).user_attrs
    assert record["config"]["stop"] == "decided" and record["config"]["margin"] == 0.005


@pytest.mark.parametrize(("argv", "message"), [
    (["--stop", "decided", "--seeds", "40"],
     "`--seeds` must not be given with --stop decided (its limit is --max-reruns), but got 40."),
    (["--stop", "decided", "--stop-at-half-width", "0.005"],
     "`--stop-at-half-width` must not be given with --stop decided"),
    (["--max-reruns", "50"], "`--max-reruns` must be given only with --stop decided, but got 50"),
    (["--margin", "0.01"], "`--margin` must be given only with --stop decided, but got 0.01"),
    (["--stop", "decided", "--margin", "2"],
     "`margin` must be a fraction of accuracy in (0, 1), but got 2.0."),
    (["--stop", "soon"], "argument --stop: invalid choice: 'soon'"),
])
def test_stop_flags_of_another_rule_are_one_line_errors(url, capsys, argv, message):
    _assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH, *argv], message)
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_paired_stop_decides_on_the_pairs_differences(url, monkeypatch):
    # A shared seed effect of 2 pp std and a true difference of +1 pp with 0.2 pp of noise:
    # the pairs' differences decide long before the unpaired spreads could.
    rng = np.random.default_rng(5)
    shared = {seed: float(rng.normal(0, 0.02)) for seed in rerun_seeds(200)}
    noise = {(p, seed): float(rng.normal(0, 0.002)) for p in ("before", "after")
             for seed in rerun_seeds(200)}

    def accuracy(placement: str, seed: int) -> float:
        return 0.8 + shared[seed] + (placement == "after") * 0.01 + noise[placement, seed]

    def train_and_score(models, params, inputs, config, seeds):
        calls.append((params["bn_position"], seeds.seed))
        return RerunResult(accuracy(params["bn_position"], seeds.seed), 1.0, 0.1)

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    stream = io.StringIO()
    run_confirmation(url, SEARCH, 200, stream=stream, rule=StopRule("decided"))

    assert calls == [(p, seed) for seed in rerun_seeds(len(calls) // 2)
                     for p in ("before", "after")]
    done: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    verdicts = []
    for placement, seed in calls:
        done[placement][seed] = accuracy(placement, seed)
        found = anytime_verdict(done, paired=True)
        verdicts.append(None if found is None else found[0])
    assert verdicts[-1] == "matters" and "matters" not in verdicts[:-1]
    assert len(calls) == 2 * MIN_RERUNS_TO_DECIDE  # decided as soon as it may be
    assert anytime_verdict(done)[0] != "matters"  # unpaired, the same reruns do not decide
    record = optuna.load_study(study_name=confirm_study_name(SEARCH), storage=url).user_attrs
    assert record["config"]["stop"] == "decided" and record["config"]["paired"] is True


def test_paired_reruns_refuse_by_spread_and_a_resume_of_another_design(url, monkeypatch):
    monkeypatch.setattr(training_module, "train_and_score", _fake_training([]))
    with pytest.raises(ConfigError, match="must be 'equal' for paired reruns"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO(), allocation="by-spread")
    run_confirmation(url, SEARCH, 1, stream=io.StringIO(), pairing="unpaired")

    with pytest.raises(ConfigError, match="ran with pairing='unpaired' and this run asks for "
                                          "'paired'"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO())
    with pytest.raises(ConfigError, match="ran with vary='both' and this run asks for 'data'"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO(), pairing="unpaired", vary="data")
    assert len(_confirm_trials(url)) == 2


@pytest.mark.parametrize(("vary", "weights", "data"), [
    ("both", [1000, 1001], [1000, 1001]),
    ("weights", [1000, 1001], [1000, 1000]),
    ("data", [1000, 1000], [1000, 1001]),
])
def test_each_source_of_variation_has_its_own_seed_recorded_per_rerun(url, monkeypatch, vary,
                                                                      weights, data):
    seen = []

    def train_and_score(models, params, inputs, config, seeds):
        seen.append(seeds)
        return RerunResult(0.5, 1.0, 0.1)

    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    run_confirmation(url, SEARCH, 2, stream=io.StringIO(), vary=vary)

    before = sorted((t for t in _confirm_trials(url) if t.params["bn_position"] == "before"),
                    key=lambda t: t.user_attrs["seed"])
    assert [t.user_attrs["weights_seed"] for t in before] == weights
    assert [t.user_attrs["data_seed"] for t in before] == data
    assert [(s.weights, s.data) for s in seen[::2]] == list(zip(weights, data, strict=True))
