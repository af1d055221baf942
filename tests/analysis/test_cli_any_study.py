"""`python -m analysis --param NAME` on studies bnstudy did not write (`plain_db` in conftest):
the report in the objective's units, no note unless `--note`, one line and exit 2 for each
wrong use, and a `--help` that loads no plotting or training library."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import optuna
import optuna_dashboard
import pytest

from analysis.cli import main

LOSS, SCORE = "loss", "score"  # plain_db's studies: toy_loss minimised, maximised (conftest.py)
FAST = ["--importance-seeds", "1"]


def _argv(url: str, out: Path, *extra: str, study: str = LOSS) -> list[str]:
    return ["--storage", url, "--study-name", study, "--out", str(out), *FAST, *extra]


def _file_state(url: str) -> tuple[str, int]:
    path = Path(url.removeprefix("sqlite:///"))
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_a_plain_study_is_analysed_in_its_units_and_left_unwritten(plain_url, tmp_path, capsys):
    before = _file_state(plain_url)

    code = main(_argv(plain_url, tmp_path / "out", "--param", "optimizer", "--reference", "sgd",
                      "--margin", "0.1", "--units", "nats"))

    out = capsys.readouterr().out
    assert code == 0
    assert "Verdict (provisional, from the search): matters - adam minus sgd = -0." in out
    assert "nats, 95% CI [" in out and "artifacts" not in out
    record = json.loads((tmp_path / "out" / "verdict.json").read_text())
    assert record["objective"]["direction"] == "minimize" and record["difference"] < 0
    assert "lower is better" in (tmp_path / "out" / "report.md").read_text()
    assert _file_state(plain_url) == before  # no note, no artifacts, nothing
    assert not any(path.name.endswith("-artifacts") for path in tmp_path.iterdir())


def test_note_writes_the_verdict_into_a_plain_study_only_when_asked(plain_url, tmp_path):
    argv = _argv(plain_url, tmp_path / "out", "--param", "optimizer", "--margin", "0.1",
                 "--note", study=SCORE)

    assert main(argv) == 0

    note = optuna_dashboard.get_note(optuna.load_study(study_name=SCORE, storage=plain_url))
    assert "## `optimizer` verdict" in note and "higher is better" in note
    assert optuna_dashboard.get_note(optuna.load_study(study_name=LOSS, storage=plain_url)) == ""


def test_no_note_still_keeps_a_bnstudy_study_unwritten(storage_url, tmp_path):
    argv = ["--storage", storage_url, "--study-name", "bn/placement", "--out", str(tmp_path),
            *FAST, "--no-note"]

    assert main(argv) == 0

    study = optuna.load_study(study_name="bn/placement", storage=storage_url)
    assert optuna_dashboard.get_note(study) == ""


REFUSED = [
    # (extra arguments, the study, what the one line says)
    ([], LOSS, "Study 'loss' must have trials with the parameter `bn_position`, or be told which "
               "categorical parameter to compare (`param`, --param NAME; it has `optimizer`)"),
    (["--param", "optimizer"], LOSS, "`margin` must be a positive difference of objective value "
                                     "in the objective's own units"),
    (["--param", "optimizer", "--margin", "-1"], LOSS, "but got -1.0."),
    (["--param", "width", "--margin", "1"], LOSS,
     "`param` must name a categorical parameter of study 'loss' (`optimizer`), but got 'width', "
     "which is an integer parameter"),
    (["--param", "optimizer", "--reference", "adamw", "--margin", "1"], LOSS,
     "`reference` must be one of the values of `optimizer` ['sgd', 'adam'], but got 'adamw'"),
    (["--param", "optimizer", "--margin", "1", "--units", "fraction"], LOSS,
     "must be fractions in [0, 1] to be read as accuracy (in pp), but trial 0 has"),
    (["--units", "ms"], "bn/placement", "`units` must be left out for 'bn/placement', which "
                                        "bnstudy wrote"),
    (["--param", "alpha"], "bn/placement", "`param` must be the parameter study 'bn/placement' "
                                           "asks about, `bn_position`"),
]


@pytest.mark.parametrize(("extra", "study", "message"), REFUSED)
def test_wrong_use_is_one_line_exit_2_and_writes_nothing(extra, study, message, plain_db,
                                                         studies_db, tmp_path, capsys):
    url = f"sqlite:///{studies_db if study == 'bn/placement' else plain_db}"  # shared files
    before = _file_state(url)

    code = main(_argv(url, tmp_path / "out", *extra, study=study))

    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("python -m analysis: error: ") and message in err
    assert _file_state(url) == before and not (tmp_path / "out").exists()


def test_help_loads_no_plotting_nor_training_library(loaded_after):
    heavy = {"matplotlib", "keras", "tensorflow", "jax"}
    assert loaded_after("from analysis.cli import main\nmain(['--help'])", heavy) == []
