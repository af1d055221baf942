"""Consistent copies of a SQLite study storage, for committing a study that still runs."""

from __future__ import annotations

import optuna
import pytest

from study.snapshot import main, snapshot_sqlite


def _study(url: str, n: int) -> optuna.Study:
    study = optuna.create_study(study_name="s", storage=url, direction="maximize",
                                load_if_exists=True)
    for value in range(n):
        study.add_trial(optuna.trial.create_trial(
            params={"x": float(value)},
            distributions={"x": optuna.distributions.FloatDistribution(0, 100)}, value=value))
    return study


def test_a_snapshot_holds_the_study_and_replaces_the_previous_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    _study(url, 3)
    destination = tmp_path / "results" / "study.db"

    assert snapshot_sqlite(url, str(destination)) == destination
    _study(url, 2)  # the study grows...
    snapshot_sqlite(url, f"sqlite:///{destination}")  # ...and is copied again

    copied = optuna.load_study(study_name="s", storage=f"sqlite:///{destination}")
    assert [t.value for t in copied.trials] == [0, 1, 2, 0, 1]
    assert not list(destination.parent.glob("*.partial"))


def test_a_snapshot_of_a_missing_file_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="`source` must be an existing SQLite file"):
        snapshot_sqlite(str(tmp_path / "missing.db"), str(tmp_path / "copy.db"))
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "copy.db").exists()


def test_the_command_line_refuses_copying_a_file_onto_itself(tmp_path, capsys):
    _study(f"sqlite:///{tmp_path / 'live.db'}", 1)
    assert main([str(tmp_path / "live.db"), str(tmp_path / "live.db")]) == 2
    assert "`destination` must differ from `source`" in capsys.readouterr().err
