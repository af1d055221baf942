from __future__ import annotations

import contextlib
import sqlite3

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.calibration.simulate import write_synthetic_study
from analysis.reading.studies import AnalysisError, complete_values, load_studies
from study.errors import StorageError
from study.storage.heartbeat import retry_later
from study.storage.question import DEFAULT_QUESTION


def test_a_url_is_opened_read_only_creating_nothing(tmp_path):
    path = tmp_path / "missing.db"

    with pytest.raises(StorageError, match="must name an existing SQLite file"):
        load_studies(f"sqlite:///{path}", "s")
    assert not path.exists()


def test_a_sqlite_file_without_optuna_tables_is_left_alone(tmp_path):
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE things (x INTEGER)")
        connection.commit()

    with pytest.raises(StorageError, match="holds tables of another program"):
        load_studies(f"sqlite:///{path}", "s")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("things",)]  # Optuna did not add its schema


def test_loads_search_and_confirm_as_tidy_tables():
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "s", effect=0.0, n_trials=12, n_confirm_seeds=3, seed=0)

    loaded = load_studies(storage, "s")

    assert list(loaded.trials.columns[:5]) == [
        "number",
        "state",
        "value",
        "duration_s",
        "last_step",
    ]
    assert loaded.param_names == ("bn_position", "learning_rate", "alpha")
    assert {"best_val_accuracy", "seed", "failure_reason"} <= set(loaded.trials.columns)
    assert len(loaded.trials) == 12
    assert loaded.distributions["learning_rate"] == FloatDistribution(1e-4, 0.5, log=True)
    assert loaded.config["dataset"] == "synthetic"
    assert sorted(loaded.confirm["bn_position"].value_counts().items()) == [
        ("after", 3),
        ("before", 3),
    ]


def test_a_trial_trained_again_after_its_process_stopped_names_the_one_it_retries():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    params = {"bn_position": "before", "alpha": 0.35}
    study.enqueue_trial(params)
    first = study.ask({"bn_position": CategoricalDistribution(["before", "after"]),
                       "alpha": FloatDistribution(0.35, 1.0)})
    study.tell(first, state=optuna.trial.TrialState.FAIL)
    retry_later(study, study.trials[0])  # the writer the tuner uses for a stopped trial
    again = study.ask()
    study.tell(again, 0.8)

    frame = load_studies(storage, "s").trials

    assert again.params == params
    assert frame["retry_of"].isna().tolist() == [True, False]
    assert frame.loc[1, "retry_of"] == 0 and str(frame["retry_of"].dtype) == "Int64"


def test_missing_study_names_the_ones_available():
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "present", effect=0.0, n_trials=4)

    with pytest.raises(StorageError, match=r"'absent' is not there \(studies: present\)"):
        load_studies(storage, "absent")


def test_study_without_bn_position_is_an_error():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="other", direction="maximize")
    study.add_trial(
        optuna.trial.create_trial(
            value=0.5, params={"x": 0.1}, distributions={"x": FloatDistribution(0, 1)}
        )
    )

    with pytest.raises(AnalysisError, match="must have trials with the parameter `bn_position`"):
        load_studies(storage, "other")


def test_complete_values_are_finite_sorted_and_of_one_placement():
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "s", effect=0.0, n_trials=20, seed=1)
    frame = load_studies(storage, "s").trials

    values = complete_values(frame, "after", DEFAULT_QUESTION.param)
    rows = frame.loc[values.index]

    assert list(values) == sorted(values, reverse=True)
    assert set(rows["bn_position"]) == {"after"} and set(rows["state"]) == {"COMPLETE"}
