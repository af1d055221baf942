"""Search and confirmation on Keras' JAX backend without TensorFlow, as on some GPU hosts."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

from study.config import preset
from study.engine.search_run import open_study
from study.storage.contract import SCIENTIFIC_PARAM
from study.storage.opener import open_storage

# Blocks TensorFlow (and TFDS) before anything imports them.
_BLOCK_TENSORFLOW = ("import sys; sys.modules['tensorflow'] = None; "
                     "sys.modules['tensorflow_datasets'] = None\n")
# Then runs the real CLI.
_WITHOUT_TENSORFLOW = (_BLOCK_TENSORFLOW +
                       "from study.search import main; raise SystemExit(main(sys.argv[1:]))")
# The same for study.confirm. What is tested is its data path without TensorFlow (arrays, the
# test split, fit and evaluate); MobileNetV2 on JAX is the search test's. So the space builds a
# tiny model (compiling MobileNetV2 for JAX takes 15-20 s per model on this CPU), and the test
# split is cut to 256 images.
_CONFIRM_WITHOUT_TENSORFLOW = _BLOCK_TENSORFLOW + """
import dataclasses
import keras, study.model.spaces as spaces, study.engine.setup as runner
load = runner.load_data

def small_test_split(config):
    splits = load(config)
    return dataclasses.replace(splits, test_images=splits.test_images[:256],
                               test_labels=splits.test_labels[:256])

def tiny_space(self, context):
    def build(hp):
        for name in ("bn_position", "learning_rate", "alpha"):
            hp.Fixed(name, hp.values[name])  # the stored trial's values, as the real space
        model = keras.Sequential([keras.Input(context.input_shape), keras.layers.Flatten(),
                                  keras.layers.Dense(context.num_classes)])
        model.compile(optimizer="sgd", metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        print("tiny model built", file=sys.stderr)
        return model
    return build

runner.load_data, spaces.SearchSpace.build_for = small_test_split, tiny_space
from study.confirm import main
raise SystemExit(main(sys.argv[1:]))
"""


def _run_on_jax(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Runs a command from the repository root with Keras on JAX."""
    return subprocess.run(command, capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).parents[2], env=os.environ | {"KERAS_BACKEND": "jax"})


@pytest.mark.slow
def test_a_search_runs_on_jax_from_arrays_without_tensorflow(tmp_path):
    url = f"sqlite:///{tmp_path}/jax.db"
    command = [sys.executable, "-c", _WITHOUT_TENSORFLOW, "--storage", url, "--study-name",
               "j", "--n-trials", "1", "--epochs", "1", "--train-size", "256",
               "--val-size", "128", "--mixed-precision", "--augment"]

    result = _run_on_jax(command)

    assert result.returncode == 0, result.stdout + result.stderr
    study = optuna.load_study(study_name="j", storage=url)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    versions = study.user_attrs["config"]["versions"]
    assert versions["backend"] == "jax" and "tensorflow" not in versions
    # The policy reaches the trial's model, not only the global setting before the search.
    assert study.trials[0].user_attrs["dtype_policy"] == "mixed_float16"
    # XLA's programs are kept beside the study for the next worker or rerun.
    assert any((tmp_path / "jax_cache").iterdir())


@pytest.mark.slow
def test_confirmation_reruns_on_jax_from_arrays_without_tensorflow(tmp_path):
    url = f"sqlite:///{tmp_path}/jax.db"
    config = preset("smoke", train_size=256, val_size=128, epochs=1, storage=url,
                    study_name="s")
    search = open_study(config, open_storage(url), dataclasses.asdict(config),
                        scientific_param=SCIENTIFIC_PARAM)
    for placement, value in (("before", 0.6), ("after", 0.5)):  # as a search leaves them
        search.add_trial(optuna.trial.create_trial(
            params={"bn_position": placement, "learning_rate": 0.05, "alpha": 0.35},
            distributions={"bn_position": CategoricalDistribution(["before", "after"]),
                           "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
                           "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0])},
            value=value))
    command = [sys.executable, "-c", _CONFIRM_WITHOUT_TENSORFLOW, "--storage", url,
               "--study-name", "s", "--max-reruns", "1"]

    result = _run_on_jax(command)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.count("tiny model built") == 2, result.stderr  # not MobileNetV2
    confirm = optuna.load_study(study_name="s/confirm", storage=url)
    assert sorted(t.params["bn_position"] for t in confirm.trials) == ["after", "before"]
    assert all(t.state == TrialState.COMPLETE and 0 <= t.value <= 1 for t in confirm.trials)
    versions = confirm.user_attrs["config"]["versions"]
    assert versions["backend"] == "jax" and "tensorflow" not in versions


def test_without_tensorflow_the_stored_uint8_images_are_fed_and_augmented_in_the_model(
        monkeypatch):
    import numpy as np

    import study.engine.setup as runner
    from study.data.splits import Splits

    images = np.zeros((6, 28, 28, 1), np.uint8)
    labels = np.zeros(6, np.int32)
    splits = Splits("fashion_mnist", 10, images, labels, images[:2], labels[:2], images[:3],
                    labels[:3])
    config = preset("smoke", augment=True)
    monkeypatch.setattr(runner, "_has_tensorflow", lambda: False)

    inputs = runner.training_inputs(config, splits)

    assert inputs.train[0] is images and inputs.held_out[0] is splits.val_images
    assert inputs.batching == {"batch_size": config.batch_size} and inputs.shuffle
    context = runner.space_context(config, splits)
    assert context.input_shape == (28, 28, 1)
    assert (context.preprocessing.image_size, context.preprocessing.augment) == (32, True)
