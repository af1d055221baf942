"""`python -m study.search` end to end, its resume and its errors (the budget across processes:
test_workers.py)."""

from __future__ import annotations

import dataclasses
import gc

import optuna
import pytest
from optuna.trial import TrialState

from analysis.cli import main as analysis_main
from study.config import preset
from study.search import main

# Two trials per placement: the fewest COMPLETE trials the analysis' provisional verdict reads.
# Seed 38 draws width 0.5 for all four trials (TPE's random start-up, seeded per trial), so
# trials 2 and 3 reuse the compiled models of trials 0 and 1: 2 s each instead of the ~26 s of
# tracing a new width (seed 0 drew four widths). Every width is built in tests/study/model/.
SMOKE = ["--preset", "smoke", "--n-trials", "4", "--epochs", "1", "--train-size", "512",
         "--val-size", "256", "--seed", "38"]


@pytest.mark.slow
def test_a_smoke_search_finishes_with_two_trials_per_placement_then_resumes(tmp_path, capsys,
                                                                            eager_models):
    """The search command as a user runs it, models run eagerly (`eager_models`): what it
    stores, prints and resumes. Graph-mode training through the same command is in
    tests/study/test_resilience.py and tests/study/test_training.py."""
    url = f"sqlite:///{tmp_path}/x.db"
    command = [*SMOKE, "--storage", url, "--study-name", "S"]

    gc.unfreeze()
    assert main(command) == 0

    assert gc.get_freeze_count() > 0  # the CLI hid its set-up from the collector (faster trials)
    study = optuna.load_study(study_name="S", storage=url)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == len(study.trials) == 4
    assert sorted(t.params["bn_position"] for t in finished) == ["after"] * 2 + ["before"] * 2
    assert all(0.0 <= t.value <= 1.0 for t in finished)
    assert {"best_val_accuracy", "final_val_accuracy", "best_epoch", "epochs_run",
            "train_seconds", "images_per_second", "param_count", "seed"} <= set(
        finished[0].user_attrs)
    config = study.user_attrs["config"]
    assert (config["dataset"], config["train_images"], config["epochs"]) == (
        "fashion_mnist", 512, 1)
    assert {"keras", "optuna", "keras_tuner", "backend"} <= set(config["versions"])
    # The uint8 images cross at their stored size; the model resizes them.
    assert (config["stored_image_shape"], config["dtype_policy"]) == ([28, 28, 1], "float32")
    out = capsys.readouterr().out
    assert "Trial 0 (1 of 4): bn_position=" in out
    assert "best with bn_position=before: val_accuracy" in out
    assert f"optuna-dashboard {url}" in out
    assert f"python -m analysis --storage {url} --study-name S" in out

    assert main(command) == 0  # the same command again: nothing left to do, nothing redone
    assert len(optuna.load_study(study_name="S", storage=url).trials) == 4
    assert "Resuming: 4 of 4 trials already finished." in capsys.readouterr().out

    # The analysis reads what the search wrote, into every file it promises.
    report = tmp_path / "report"
    assert analysis_main(["--storage", url, "--study-name", "S", "--out", str(report),
                          "--no-note", "--importance-seeds", "1"]) == 0
    assert {"report.md", "verdict.json", "trials.csv", "importance.png", "isolation.png",
            "expected_max.png", "learning_rate.png"} <= {p.name for p in report.iterdir()}
    assert "Verdict (provisional, from the search)" in capsys.readouterr().out


def test_resuming_a_study_of_another_search_space_is_refused_and_writes_nothing(tmp_path,
                                                                               capsys):
    url = f"sqlite:///{tmp_path}/x.db"
    other = optuna.create_study(study_name="S", storage=url, direction="maximize")
    other.set_user_attr("config", dataclasses.asdict(preset("smoke")) | {
        "search_space": "another_space"})

    assert main(["--storage", url, "--study-name", "S", "--train-size", "256",
                 "--val-size", "128"]) == 2

    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "python -m study.search: error: `search_space` must match the study being resumed")
    assert "'another_space'" in err and len(err.splitlines()) == 1
    assert optuna.load_study(study_name="S", storage=url).trials == []


@pytest.mark.parametrize(("flags", "message"), [
    (["--preset", "huge"], "argument --preset: invalid choice: 'huge' (choose from 'cpu', "
                           "'gpu', 'smoke')"),
    (["--dataset", "mnist"], "`dataset` must be 'fashion_mnist', 'tfds:<name>'"),
    (["--search-space", "nope"],
     "`search_space` must be one of ['activation', 'bn_placement'] or the dotted"),
    (["--sampler", "grid"], "argument --sampler: invalid choice: 'grid' (choose from 'tpe',"),
    (["--pruner", "always"], "argument --pruner: invalid choice: 'always' (choose from 'median',"),
    (["--n-trials", "0"], "`n_trials` must be positive, but got 0."),
    (["--epochs", "-1"], "`epochs` must be positive, but got -1."),
    (["--batch-size", "0"], "`batch_size` must be positive, but got 0."),
    (["--train-size", "0"], "`train_size` must be positive, but got 0."),
    (["--image-size", "31"], "`image_size` must be at least 32, but got 31."),
    (["--train-size", "59000", "--val-size", "6000"], "must not exceed the 60000 training"),
    (["--timeout", "0"], "`timeout` must be positive seconds, but got 0.0; leave --timeout"),
    (["--timeout", "nan"], "`timeout` must be positive seconds, but got nan; leave --timeout"),
    (["--timeout", "inf"], "`timeout` must be positive seconds, but got inf; leave --timeout"),
    (["--image-size", "100000"], "`image_size` must let one batch of float32 inputs fit in "
                                 "memory, but at 100000 they take 128 x 100000x100000 x 12"),
    (["--study-name", ""], "`study_name` must name a study with at least one visible character"),
    (["--study-name", " "], "at least one visible character, but got ' '"),
    (["--storage", "nonsense://x"], "`storage` must be a database URL such as sqlite:///"),
    (["--seed", "-1"], "`seed` must be in [0, 4294967295] (NumPy and TensorFlow take unsigned "
                       "32-bit seeds), but got -1."),
    (["--n-trials", "1000000000"], "`n_trials` must be at most 100,000, but got 1,000,000,000."),
    (["--epochs", "99999"], "`epochs` must be at most 10,000, but got 99,999."),
    (["--study-name", "x" * 300], "`study_name` must be at most 200 characters"),
    (["--dataset", "tfds:bad name!", "--image-size", "32"],
     "must be 'tfds:' and a TensorFlow Datasets name such as"),
])
def test_a_wrong_argument_is_one_line_naming_it_and_exit_code_2(tmp_path, capsys, monkeypatch,
                                                                 flags, message):
    monkeypatch.chdir(tmp_path)
    assert main(["--study-name", "S", *flags]) == 2

    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert message in err
    assert not list(tmp_path.rglob("*.db"))  # nothing written to any storage
