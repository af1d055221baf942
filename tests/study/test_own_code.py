"""The public faces, used from a user's own script exactly as docs/own_code.md shows them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

import study

DOC = Path(__file__).resolve().parents[2] / "docs" / "own_code.md"


def test_the_tuner_and_oracle_come_from_the_package_top_without_loading_keras():
    code = ("import sys, study; assert 'keras' not in sys.modules; "
            "from study import OptunaTuner, OptunaOracle; assert 'keras' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert sorted(study.__all__) == ["OptunaOracle", "OptunaTuner"]
    with pytest.raises(AttributeError, match="has no attribute 'Tuner'"):
        study.Tuner  # noqa: B018


@pytest.mark.slow
def test_the_documented_script_runs_as_written(tmp_path):
    (script,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)[:1]
    (tmp_path / "my_script.py").write_text(script)

    done = subprocess.run([sys.executable, "my_script.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("best units ") for line in lines)
    assert "plain ['COMPLETE', 'COMPLETE']" in lines
    mine = optuna.load_study(study_name="mine", storage=f"sqlite:///{tmp_path}/my_tuning/tuning.db")
    assert mine.direction == optuna.study.StudyDirection.MINIMIZE
    assert len(mine.trials) == 3 and mine.best_value == min(t.value for t in mine.trials)
    assert (tmp_path / "my_tuning" / "mine").is_dir()  # project_name reached Keras Tuner


def test_an_oracle_beside_what_it_replaces_is_refused():
    from study import OptunaOracle, OptunaTuner

    oracle = OptunaOracle(max_trials=2)
    with pytest.raises(ValueError, match=r"`oracle` replaces max_trials, study: give them to"):
        OptunaTuner(lambda hp: None, oracle=oracle, study=oracle.study, max_trials=3)
    with pytest.raises(ValueError, match="must be an OptunaOracle .* got RandomSearchOracle"):
        import keras_tuner

        OptunaTuner(lambda hp: None, oracle=keras_tuner.oracles.RandomSearchOracle())
