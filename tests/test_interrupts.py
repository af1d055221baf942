"""Ctrl-C at any moment of every command line, in a subprocess: one line and 130, no traceback.

run_command's own cases (errors raised instead, ignored callbacks): tests/study/test_cli.py.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.calibration.simulate import write_synthetic_study
from study.cli import EXIT_INTERRUPTED
from study.storage.contract import CONFIG_ATTR, PLACEMENTS, SCIENTIFIC_PARAM

pytestmark = pytest.mark.usefixtures("ctrl_c_raises")
ROOT = Path(__file__).parents[1]
# Python may end a process with SIGINT itself after the one line, when a KeyboardInterrupt passed
# through some C extensions on its way: that reads as -2 here and as 130 in a shell, the same for
# a user.
INTERRUPTED = (EXIT_INTERRUPTED, -signal.SIGINT)


# The entry modules reach run_command before anything slow is imported.


def test_entry_modules_import_nothing_slow(loaded_after):
    slow = {"optuna", "pandas", "keras", "tensorflow", "sklearn", "scipy", "numpy"}
    assert loaded_after("import study.search, study.select, study.confirm, study.snapshot, "
                        "study.rename, study.run, bnstudy.cli, analysis", slow) == []


def test_the_analysis_package_still_exports_every_name():
    import analysis

    assert all(getattr(analysis, name) is not None for name in analysis.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        analysis.nothing  # noqa: B018


# The real command lines, interrupted in a subprocess during start-up and during work.


@pytest.fixture(scope="module")
def studies_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Studies that keep each command busy: "s" for study.select and study.confirm (a stored
    config and a best trial of each placement: they train), "synthetic" for analysis (enough
    trials to analyse)."""
    path = tmp_path_factory.mktemp("interrupts") / "studies.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    write_synthetic_study(storage, "synthetic", effect=0.0, n_trials=16, seed=1)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.set_user_attr(CONFIG_ATTR, {"dataset": "fashion_mnist", "epochs": 50,
                                      "train_size": 256, "val_size": 64, "seed": 0})
    distributions = {SCIENTIFIC_PARAM: CategoricalDistribution(PLACEMENTS),
                     "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
                     "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0])}
    for value, placement in zip((0.5, 0.6), PLACEMENTS, strict=True):
        study.add_trial(optuna.trial.create_trial(
            value=value, distributions=distributions,
            params={SCIENTIFIC_PARAM: placement, "learning_rate": 0.01, "alpha": 0.35}))
    storage.engine.dispose()
    return path


COMMANDS = {
    "study.search": ["--n-trials", "1", "--epochs", "50", "--train-size", "256",
                     "--val-size", "64", "--storage", "sqlite:///{tmp}/search.db"],
    "study.select": ["--seeds", "2", "--top-k", "1", "--storage", "{url}", "--study-name", "s"],
    "study.confirm": ["--seeds", "1", "--storage", "{url}", "--study-name", "s"],
    "analysis": ["--importance-seeds", "100", "--storage", "{url}", "--study-name", "synthetic",
                 "--out", "{tmp}/report", "--no-note"],
}


# 0.3 s: Optuna, pandas or Keras are being imported; 5 s: training or analysing, or still
# importing on a slow machine. Settings (50 epochs, 100 importance seeds) outlast both.
@pytest.mark.parametrize("after", [0.3, 5.0], ids=["start-up", "working"])
@pytest.mark.parametrize("module", list(COMMANDS))
def test_ctrl_c_is_one_line_and_exit_code_130(module, after, studies_db, tmp_path):
    shutil.copyfile(studies_db, tmp_path / "studies.db")  # each run may write to its own copy
    url = f"sqlite:///{tmp_path}/studies.db"
    argv = [arg.format(tmp=tmp_path, url=url) for arg in COMMANDS[module]]
    process = subprocess.Popen([sys.executable, "-m", module, *argv], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    assert process.poll() is None, "the command ended before it could be interrupted"

    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)

    assert process.returncode in INTERRUPTED, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert err.strip().splitlines()[-1].startswith(f"python -m {module}: interrupted; ")
    assert not (tmp_path / "report").exists()  # analysis: no half-written report
