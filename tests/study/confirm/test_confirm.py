"""Confirmation reruns against a search study written directly into SQLite (conftest.py), no
search run: which trials rerun and on which seeds, resuming, and one-line mistakes."""

from __future__ import annotations

import dataclasses
import io
import json
import time

import optuna
import pytest
from optuna.trial import TrialState

import study.engine.setup
import study.reruns.training as training_module
from analysis.cli import main as analysis_main
from study.config import ConfigError
from study.confirm import main, run_confirmation
from study.reruns.training import RerunResult
from study.storage.reruns import CONFIRM_SEED_BASE, confirm_study_name, rerun_seeds

SEARCH = "s"  # the search study in `url` (conftest.py)
BEST = {"before": 1, "after": 3}  # trial numbers of each placement's best in SEARCH_TRIALS


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
def test_reruns_best_trial_of_each_placement_then_resumes_without_training(
        url, quick_training, monkeypatch, tmp_path, fake_training):
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

    monkeypatch.setattr(training_module, "train_and_score", fake_training(calls := []))
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


def test_interrupted_run_continues_with_the_missing_pairs(url, monkeypatch, fake_training,
                                                          confirm_trials):
    monkeypatch.setattr(training_module, "train_and_score", fake_training(calls := []))
    confirm = optuna.create_study(study_name=confirm_study_name(SEARCH), storage=url,
                                  direction="maximize")
    source = optuna.load_study(study_name=SEARCH, storage=url).trials[BEST["before"]]
    confirm.add_trial(optuna.trial.create_trial(
        params=source.params, distributions=source.distributions, value=0.7,
        user_attrs={"seed": CONFIRM_SEED_BASE, "source_trial": source.number}))
    stream = io.StringIO()

    run_confirmation(url, SEARCH, 2, stream=stream)

    assert calls == [("after", 1000), ("before", 1001), ("after", 1001)]
    assert len(confirm_trials(url)) == 4
    # Named for optuna-dashboard's axes, also when the study was made without a name.
    assert optuna.load_study(study_name=confirm_study_name(SEARCH),
                             storage=url).metric_names == ["test_accuracy"]
    assert "Resuming: 1 of 4 reruns already finished." in stream.getvalue()


def test_a_rerun_put_back_by_a_worker_of_other_code_records_the_code_it_was_trained_on(
        url, monkeypatch, fake_training, confirm_trials):
    from study.engine.provenance import code_version

    def stopped(*args):
        raise KeyboardInterrupt  # Ctrl-C (or SIGTERM) mid-rerun: the rerun is put back

    monkeypatch.setattr(training_module, "train_and_score", stopped)
    monkeypatch.setattr(study.engine.setup, "code_version", lambda: "0123456789ab")
    with pytest.raises(KeyboardInterrupt):
        run_confirmation(url, SEARCH, 1, stream=io.StringIO())
    (queued,) = confirm_trials(url)
    assert queued.state == TrialState.WAITING
    assert queued.user_attrs["code_version"] == "0123456789ab"
    monkeypatch.setattr(training_module, "train_and_score", fake_training([]))
    monkeypatch.setattr(study.engine.setup, "code_version", code_version)

    run_confirmation(url, SEARCH, 1, stream=io.StringIO())

    trials = confirm_trials(url)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert trials[0].number == queued.number  # the put-back rerun, trained by this worker
    assert {t.user_attrs["code_version"] for t in trials} == {code_version()}


def test_more_seeds_later_adds_only_the_new_ones(url, monkeypatch, fake_training):
    monkeypatch.setattr(training_module, "train_and_score", fake_training(calls := []))

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


def test_refuses_to_mix_reruns_of_another_source_trial(url, monkeypatch, fake_training):
    monkeypatch.setattr(training_module, "train_and_score", fake_training([]))
    run_confirmation(url, SEARCH, 1, stream=io.StringIO())
    search = optuna.load_study(study_name=SEARCH, storage=url)
    search.add_trial(optuna.trial.create_trial(
        params={"bn_position": "after", "learning_rate": 0.5, "alpha": 0.35},
        distributions=search.trials[0].distributions, value=0.9))

    with pytest.raises(ConfigError, match=r"reruns trial 3 for bn_position='after' and the "
                                          r"search's best is now trial 4"):
        run_confirmation(url, SEARCH, 2, stream=io.StringIO())


def test_summary_shows_mean_and_std_per_placement_and_the_analysis_command(url, monkeypatch,
                                                                          capsys, fake_training):
    monkeypatch.setattr(training_module, "train_and_score", fake_training([]))

    assert main(["--storage", url, "--study-name", SEARCH, "--max-reruns", "2"]) == 0

    out = capsys.readouterr().out
    assert "bn_position=before: test accuracy 0.5050 ± 0.0071 (mean ± std of 2 seeds)" \
        in out
    assert f"python -m analysis --storage {url} --study-name {SEARCH}" in out


def test_missing_sqlite_file_is_one_line_error_and_creates_nothing(tmp_path, capsys,
                                                                   assert_one_line_error):
    path = tmp_path / "absent" / "none.db"

    assert_one_line_error(capsys, ["--storage", f"sqlite:///{path}", "--study-name", SEARCH],
                          "must name an existing SQLite file")

    assert not path.exists() and not path.parent.exists()


def test_unknown_study_is_one_line_error(url, capsys, assert_one_line_error):
    assert_one_line_error(capsys, ["--storage", url, "--study-name", "nope"],
                          "'nope' is not there (studies: s)")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_zero_seeds_is_one_line_error(url, capsys, assert_one_line_error):
    assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH,
                                   "--max-reruns", "0"],
                          "`seeds` must be positive, but got 0.")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


def test_placement_without_complete_trial_is_one_line_error(tmp_path, capsys, write_search_study,
                                                            assert_one_line_error):
    url = f"sqlite:///{tmp_path / 'half.db'}"
    write_search_study(url, placements=("before",))

    assert_one_line_error(capsys, ["--storage", url, "--study-name", SEARCH],
                          "has none with bn_position='after'")
    assert optuna.get_all_study_names(storage=url) == [SEARCH]


@pytest.mark.parametrize(("vary", "weights", "data"), [
    ("both", [1000, 1001], [1000, 1001]),
    ("weights", [1000, 1001], [1000, 1000]),
    ("data", [1000, 1000], [1000, 1001]),
])
def test_each_source_of_variation_has_its_own_seed_recorded_per_rerun(url, monkeypatch, vary,
                                                                      weights, data,
                                                                      confirm_trials):
    seen = []

    def train_and_score(models, params, inputs, config, seeds):
        seen.append(seeds)
        return RerunResult(0.5, 1.0, 0.1)

    monkeypatch.setattr(training_module, "train_and_score", train_and_score)
    run_confirmation(url, SEARCH, 2, stream=io.StringIO(), vary=vary)

    before = sorted((t for t in confirm_trials(url) if t.params["bn_position"] == "before"),
                    key=lambda t: t.user_attrs["seed"])
    assert [t.user_attrs["weights_seed"] for t in before] == weights
    assert [t.user_attrs["data_seed"] for t in before] == data
    assert [(s.weights, s.data) for s in seen[::2]] == list(zip(weights, data, strict=True))
