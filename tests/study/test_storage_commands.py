"""What the commands do with a storage they must refuse, and with a URL that holds a password.

`study.storage.opener` is tested on its own in storage/test_opener.py; here the three commands
are run as a user runs them: a refusal is exit code 2, one line on stderr and the file left
byte for byte; a password appears in no output, stored attribute or report; printed commands
are shell-quoted.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.calibration.simulate import write_synthetic_study
from analysis.cli import main as analysis_main
from study.config import ConfigError, config_from_record, preset
from study.confirm import main as confirm_main
from study.confirm import run_confirmation
from study.confirm import summary as confirm_summary
from study.engine.search_run import open_study
from study.search import main as search_main
from study.search import summary as search_summary
from study.storage.contract import CONFIG_ATTR, SCIENTIFIC_PARAM
from study.storage.opener import open_storage
from study.storage.records import search_record, stored_record
from study.storage.reruns import confirm_study_name

ROOT = Path(__file__).parents[2]
PASSWORD = "s3cret-pw"
UNREACHABLE = f"postgresql://user:{PASSWORD}@127.0.0.1:1/db"
ODD_NAME = "my study $HOME 'x'"  # a shell would split it and expand $HOME unless quoted
DISTRIBUTIONS = {"bn_position": CategoricalDistribution(["before", "after"]),
                 "learning_rate": FloatDistribution(1e-4, 0.5, log=True)}


def _one_error_line(err: str, prog: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"{prog}: error: `storage` must "), err
    return err


def test_search_leaves_another_programs_sqlite_file_unchanged(tmp_path, foreign_sqlite):
    # `studies` is also an Optuna table: Optuna used to add its other tables, then crash.
    path = tmp_path / "foreign.db"
    before = foreign_sqlite(path, "studies")

    result = subprocess.run(
        [sys.executable, "-m", "study.search", "--storage", f"sqlite:///{path}",
         "--study-name", "S", "--train-size", "256", "--val-size", "128"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)

    assert result.returncode == 2, result.stderr
    err = _one_error_line(result.stderr, "python -m study.search")
    assert "holds tables of another program (studies)" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("table", ["things", "studies"])
def test_confirm_leaves_another_programs_sqlite_file_unchanged(tmp_path, capsys,
                                                               foreign_sqlite, table):
    path = tmp_path / "foreign.db"
    before = foreign_sqlite(path, table)

    assert confirm_main(["--storage", f"sqlite:///{path}", "--study-name", "S"]) == 2

    err = _one_error_line(capsys.readouterr().err, "python -m study.confirm")
    assert f"holds tables of another program ({table})" in err
    assert path.read_bytes() == before


def _search_study(url: str, name: str = "S") -> optuna.Study:
    """A search study as `study.search` leaves it, with two finished trials per placement."""
    config = preset("smoke", storage=url, study_name=name)
    study = open_study(config, open_storage(url), dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)
    for number, (placement, value) in enumerate(
            [("before", 0.5), ("before", 0.6), ("after", 0.55), ("after", 0.45)]):
        study.add_trial(optuna.trial.create_trial(
            params={"bn_position": placement, "learning_rate": 0.01 * (number + 1)},
            distributions=DISTRIBUTIONS, value=value))
    return study


def test_confirm_refuses_a_read_only_database_before_writing(tmp_path, capsys):
    path = tmp_path / "s.db"
    _search_study(f"sqlite:///{path}")
    before = path.read_bytes()

    assert confirm_main(["--storage", f"sqlite:///file:{path}?mode=ro&uri=true",
                         "--study-name", "S"]) == 2

    err = _one_error_line(capsys.readouterr().err, "python -m study.confirm")
    assert "must accept writes to search or confirm, but" in err and "is read-only" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize(("name", "existing"), [("new/s.db", False), ("s.db", True)])
def test_search_refuses_a_storage_in_a_read_only_folder_in_one_line(tmp_path, capsys,
                                                                    make_read_only, name,
                                                                    existing):
    folder = tmp_path / "read-only"
    folder.mkdir()
    url = f"sqlite:///{folder / name}"
    if existing:  # an Optuna storage without this study: the search would create it
        optuna.create_study(study_name="other", storage=open_storage(url))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    make_read_only(folder)

    assert search_main(["--storage", url, "--study-name", "S", "--train-size", "256",
                        "--val-size", "128"]) == 2

    err = _one_error_line(capsys.readouterr().err, "python -m study.search")
    assert "must lie in a folder that can be written to" in err and "is read-only" in err
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_confirm_leaves_an_empty_file_empty(tmp_path, capsys):
    path = tmp_path / "made-by-the-user.db"
    path.touch()

    assert confirm_main(["--storage", f"sqlite:///{path}", "--study-name", "S"]) == 2

    err = _one_error_line(capsys.readouterr().err, "python -m study.confirm")
    assert f"must hold Optuna studies, but 'sqlite:///{path}' has no tables." in err
    assert path.read_bytes() == b""


@pytest.mark.parametrize(("main", "prog"), [(search_main, "python -m study.search"),
                                            (confirm_main, "python -m study.confirm"),
                                            (analysis_main, "python -m analysis")])
def test_an_unreachable_server_is_one_line_without_the_password(capsys, main, prog):
    assert main(["--storage", UNREACHABLE, "--study-name", "S"]) == 2

    captured = capsys.readouterr()
    err = _one_error_line(captured.err, prog)
    assert "must be a reachable database server, but 'postgresql://user:***@127.0.0.1:1/db' " \
           "is unreachable" in err
    assert PASSWORD not in captured.out + captured.err


def test_a_new_study_stores_the_storage_url_without_its_password():
    url = f"postgresql://user:{PASSWORD}@db.example/bn"
    settings = dataclasses.asdict(preset("smoke", storage=url))

    record = search_record(settings, study_name="s", num_classes=10, train_images=4,
                           val_images=2, stored_image_shape=(28, 28, 1), dtype_policy="float32",
                           versions={})

    assert record["storage"] == "postgresql://user:***@db.example/bn"
    assert PASSWORD not in json.dumps(record)


def test_confirm_takes_the_live_url_when_the_stored_one_is_masked(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _search_study(url)
    study.set_user_attr(CONFIG_ATTR, study.user_attrs[CONFIG_ATTR] | {
        "storage": "postgresql://user:***@db.example/bn"})

    assert config_from_record(stored_record(study), storage=url,
                              study_name=study.study_name).storage == url


def _command_after(text: str, heading: str, program: str) -> list[str]:
    """The words of the command under `heading` that starts with `program`, as a shell reads
    them."""
    lines = text.splitlines()
    for line in lines[lines.index(heading) + 1:]:
        if line.strip().startswith(program):
            return shlex.split(line)
    raise AssertionError(f"no {program!r} command in {text!r}")


def test_summaries_mask_the_password_and_quote_the_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _search_study(url, ODD_NAME)
    shown_url = "postgresql://user:***@db.example/bn"
    live_url = f"postgresql://user:{PASSWORD}@db.example/bn"

    text = search_summary(study, live_url)

    assert PASSWORD not in text and shown_url in text
    assert _command_after(text, "Look further:", "optuna-dashboard") == [
        "optuna-dashboard", shown_url]
    assert _command_after(text, "Look further:", "python -m study.confirm") == [
        "python", "-m", "study.confirm", "--storage", shown_url, "--study-name", ODD_NAME]
    assert _command_after(text, "Look further:", "python -m analysis") == [
        "python", "-m", "analysis", "--storage", shown_url, "--study-name", ODD_NAME]

    text = confirm_summary(study, live_url, ODD_NAME)

    assert PASSWORD not in text
    assert _command_after(text, "Analyse:", "python -m analysis") == [
        "python", "-m", "analysis", "--storage", shown_url, "--study-name", ODD_NAME]


def test_the_delete_study_hint_is_shell_quoted(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    search = _search_study(url, ODD_NAME)
    confirm = optuna.create_study(study_name=confirm_study_name(ODD_NAME), storage=url,
                                  direction="maximize")
    worse = search.trials[0]  # the search's best "before" is trial 1: this rerun is stale
    confirm.add_trial(optuna.trial.create_trial(
        params=worse.params, distributions=worse.distributions, value=0.5,
        user_attrs={"seed": 1000, "source_trial": worse.number, "bn_position": "before"}))

    with pytest.raises(ConfigError, match="start over with `") as raised:
        run_confirmation(url, ODD_NAME, 1)

    command = str(raised.value).split("`")[-2]
    assert shlex.split(command) == ["optuna", "delete-study", "--storage", url,
                                    "--study-name", confirm_study_name(ODD_NAME)]


def test_analysis_outputs_never_show_the_password(postgres_database, tmp_path, capsys):
    url, password = postgres_database, sqlalchemy.engine.make_url(postgres_database).password
    storage = open_storage(url)
    study = write_synthetic_study(storage, "S", effect=0.0, n_trials=16, seed=0)
    # As studies stored before URLs were masked hold it.
    study.set_user_attr(CONFIG_ATTR, study.user_attrs[CONFIG_ATTR] | {"storage": url})
    out_dir = tmp_path / "report"

    assert analysis_main(["--storage", url, "--study-name", "S", "--out", str(out_dir),
                          "--importance-seeds", "1"]) == 0

    captured = capsys.readouterr()
    assert password not in captured.out + captured.err
    texts = {path.name: path.read_bytes() for path in out_dir.iterdir()}
    assert {"report.md", "verdict.json", "trials.csv"} <= set(texts)
    assert not [file for file, text in texts.items() if password.encode() in text]
    report = texts["report.md"].decode()
    assert "--storage 'postgresql://postgres:***@127.0.0.1:" in report
    # optuna-dashboard keeps the note in the study's system attributes.
    attrs = storage.get_study_system_attrs(storage.get_study_id_from_name("S"))
    assert any(key.startswith("dashboard:") for key in attrs), attrs.keys()
    assert password not in json.dumps(attrs)
