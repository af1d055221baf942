"""One rerun: train a stored configuration with given seeds, score it once on a held-out split.

`study.select` scores on the validation split, `study.confirm` on the test split; which one is
the `held_out` of the inputs (`study.engine.setup.training_inputs`), so this module never chooses
a split itself. The seeds come one per source of variation (`RerunSeeds`): the initial weights
(and dropout), and the order and augmentation of the training examples. Two reruns with the
same seeds of two configurations whose weights have the same shapes (BN before or after at one
width) start from the same weights and see the same batches: `weights_digest` records the
initial weights so that pairs can be checked from the storage.

Light module level, like the rest of `study.reruns`: Keras is imported inside the function.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.storage.reruns import CONFIRM_SEED_BASE, RerunSeeds

if TYPE_CHECKING:
    import keras

    from study.config import SearchConfig
    from study.engine.setup import TrainingInputs
    from study.tuning.compiled_models import TrialModels

__all__ = ["RerunResult", "train_and_score", "weights_digest"]


@dataclass(frozen=True)
class RerunResult:
    """What one rerun measured.

    Attributes:
        accuracy: Accuracy on the held-out split.
        loss: Loss on the held-out split.
        seconds: Seconds spent in `fit`.
        history: Each epoch's metrics as `fit` logged them: training loss and accuracy, and
            the validation split's (`val_loss`, `val_accuracy`), the rerun's learning curve.
        weights_digest: SHA-1 of the initial weights (`weights_digest`).
    """

    accuracy: float
    loss: float
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    weights_digest: str = ""


def weights_digest(model: keras.Model) -> str:
    """A short SHA-1 of a model's weights, their shapes and values, in the model's order."""
    import numpy as np

    digest = hashlib.sha1()
    for variable in model.weights:
        array = np.ascontiguousarray(np.asarray(variable))
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def train_and_score(models: TrialModels, params: dict[str, object], inputs: TrainingInputs,
                    config: SearchConfig, seeds: RerunSeeds) -> RerunResult:
    """Trains one configuration on the training split and evaluates it once on the held-out one.

    Args:
        models: The search space's models (`TrialModels`): with reuse on, a rerun of an
            architecture already trained here reuses its compiled model, re-initialised.
        params: The whole configuration, the scientific parameter included.
        inputs: The training split and the held-out split: validation for the selection,
            test for the confirmation (`training_inputs(..., held_out=...)`).
        config: Epochs of the search.
        seeds: The weights' seed and the data order's seed.

    Returns:
        Accuracy and loss on the held-out split, time, per-epoch history (the learning
        curve on validation), weights digest.

    Raises:
        ConfigError: when the search space asks for hyperparameters the trial does not have.
    """
    import keras
    import keras_tuner

    from study.tuning.custom_gradients import released_custom_gradients
    from study.tuning.seeding import seed_trial

    if not models.reuse:
        keras.backend.clear_session()  # one model at a time; earlier reruns' graphs would pile up
    seed_trial(seeds.weights, tensorflow_seed=CONFIRM_SEED_BASE)  # keeps reused models' kernels
    hp = keras_tuner.HyperParameters()
    hp.values = dict(params)  # Keras Tuner returns values already present instead of sampling
    with released_custom_gradients():  # else every rerun's train step stays in memory
        model: keras.Model = models.build_for_trial(hp)
        unknown = sorted(set(hp.values) - set(params))
        if unknown:
            raise ConfigError(f"`search_space` must be the one the study was run with, but "
                              f"{config.search_space!r} asks for {unknown}, which the trial "
                              f"lacks.")
        digest = weights_digest(model)
        started = time.perf_counter()
        # The learning curve: validation accuracy after every epoch, never the test split's
        # (which is scored once, below, when the held-out split is the test split).
        fitted = model.fit(*inputs.seeded_train(seeds.data), epochs=config.epochs, verbose=0,
                           shuffle=inputs.shuffle, validation_data=inputs.curve_data,
                           **inputs.batching)
        seconds = time.perf_counter() - started
        results = model.evaluate(*inputs.held_out, verbose=0, return_dict=True, **inputs.batching)
    per_epoch = fitted.history
    history = [{name: float(values[epoch]) for name, values in per_epoch.items()}
               for epoch in range(len(per_epoch.get("loss", [])))]
    return RerunResult(float(results["accuracy"]), float(results["loss"]), seconds, history,
                       digest)
