"""The search on Keras' JAX backend on a machine without TensorFlow, as on some GPU hosts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

# Blocks TensorFlow (and TFDS) before anything imports them, then runs the real CLI.
_WITHOUT_TENSORFLOW = ("import sys; sys.modules['tensorflow'] = None; "
                       "sys.modules['tensorflow_datasets'] = None; "
                       "from study.search import main; raise SystemExit(main(sys.argv[1:]))")


@pytest.mark.slow
def test_a_search_runs_on_jax_from_arrays_without_tensorflow(tmp_path):
    url = f"sqlite:///{tmp_path}/jax.db"
    command = [sys.executable, "-c", _WITHOUT_TENSORFLOW, "--storage", url, "--study-name",
               "j", "--n-trials", "1", "--epochs", "1", "--train-size", "256",
               "--val-size", "128"]

    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            cwd=Path(__file__).parents[2],
                            env=os.environ | {"KERAS_BACKEND": "jax"})

    assert result.returncode == 0, result.stdout + result.stderr
    study = optuna.load_study(study_name="j", storage=url)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    versions = study.user_attrs["config"]["versions"]
    assert versions["backend"] == "jax" and "tensorflow" not in versions


def test_augmentation_without_tensorflow_is_refused_with_the_fix(monkeypatch):
    import study.runner as runner
    from study.config import ConfigError, preset

    monkeypatch.setattr(runner, "_has_tensorflow", lambda: False)
    with pytest.raises(ConfigError, match="`augment` needs TensorFlow.*pass --no-augment"):
        runner.training_inputs(preset("smoke", augment=True), splits=None)
