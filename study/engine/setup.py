"""The one set-up of a run, shared by the search, the reruns and the benchmarks.

From a `SearchConfig`: the data's splits, what `fit` and `evaluate` are given (a seeded tf.data
pipeline, or arrays where TensorFlow is missing), the JAX compilation cache, the search space's
`build(hp)` and what it declares (which hyperparameters change the graph, which one is
scientific), and the models or tuner made from them. Made once per process by `prepare_run`.
"""

from __future__ import annotations

import dataclasses
import math
import platform
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import optuna

from study.config import SearchConfig
from study.data.pipeline import make_dataset
from study.data.splits import DEFAULT_DATASET, Splits, load_splits
from study.engine.provenance import code_version
from study.model import spaces
from study.model.precision import dtype_policy_for
from study.model.preprocessing import Preprocessing
from study.model.spaces import SpaceContext
from study.tuning.compiled_models import (
    TrialModels,
    enable_jax_compilation_cache,
    jax_cache_dir,
)
from study.tuning.tuner import OptunaTuner

if TYPE_CHECKING:
    import keras
    import keras_tuner

__all__ = ["RunSetup", "TrainingInputs", "code_version", "dtype_policy",
           "enable_deterministic_ops", "library_versions", "load_data", "prepare_run",
           "space_context", "training_inputs"]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a trial's result, and of this code, for the
    study's record."""
    import keras
    import keras_tuner

    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "keras_tuner": keras_tuner.__version__, "optuna": optuna.__version__,
                "backend": keras.backend.backend(), "bnstudy": code_version()}
    tensorflow = sys.modules.get("tensorflow")  # None where it was blocked or is missing
    if tensorflow is not None:
        versions["tensorflow"] = tensorflow.__version__
    return versions


def enable_deterministic_ops() -> None:
    """Makes TensorFlow ops deterministic, so that a trial's result depends on its seed alone.

    Costs some speed (and turns XLA off); other backends are deterministic on CPU already.
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def dtype_policy(config: SearchConfig) -> str:
    """The Keras dtype policy of every model the run builds ("auto" resolved on this machine)."""
    return dtype_policy_for(config.precision)


def load_data(config: SearchConfig) -> Splits:
    """The dataset's splits as the config asks; TFDS sets are resized at load time."""
    # Fashion-MNIST stays 28x28 in memory and is resized in the model; TFDS and folder images
    # can differ in size and must share one at load time.
    at_load = None if config.dataset == DEFAULT_DATASET else config.image_size
    return load_splits(config.dataset, data_dir=config.data_dir, train_size=config.train_size,
                       val_size=config.val_size, seed=config.seed, image_size=at_load)


def space_context(config: SearchConfig, splits: Splits) -> SpaceContext:
    """What the search space needs to know about this run.

    The models take the images as stored (uint8, e.g. 28x28x1) and resize, augment and scale
    them in their first layer (`context.preprocessing`), on the device.
    """
    return SpaceContext(
        input_shape=tuple(splits.train_images.shape[1:]),
        num_classes=splits.num_classes,
        steps_per_epoch=math.ceil(len(splits.train_images) / config.batch_size),
        epochs=config.epochs, jit_compile=config.jit_compile,
        preprocessing=Preprocessing(config.image_size, augment=config.augment))


def _has_tensorflow() -> bool:
    try:
        import tensorflow  # noqa: F401  (the tf.data pipeline imports it anyway)
    except ImportError:
        return False
    return True


def _as_data(split: tuple[object, ...]) -> object:
    """One dataset as itself, (images, labels) arrays as the tuple `fit` takes."""
    return split[0] if len(split) == 1 else split


@dataclasses.dataclass(frozen=True)
class TrainingInputs:
    """What `fit` and `evaluate` are given, from a tf.data pipeline or from arrays alike.

    Attributes:
        train: `fit`'s positional arguments: (dataset,) or (images, labels).
        held_out: `evaluate`'s positional arguments for the held-out split, in the same form.
        validation: The validation split in the same form, whatever `held_out` is: reruns
            score it after every epoch for their learning curve (never the test split).
        batching: {"batch_size": n} for arrays; empty for datasets, which are batched.
        shuffle: Whether `fit` shuffles (arrays); a pipeline reshuffles itself.
        training_data: Makes the training dataset for a seed (pipelines), else None.
    """

    train: tuple[object, ...]
    held_out: tuple[object, ...]
    validation: tuple[object, ...]
    batching: dict[str, object]
    shuffle: bool
    training_data: Callable[[int], object] | None

    @property
    def fit_kwargs(self) -> dict[str, object]:
        """`fit`'s keyword arguments, with the held-out split as `validation_data`."""
        return {"validation_data": _as_data(self.held_out), "shuffle": self.shuffle,
                **self.batching}

    @property
    def curve_data(self) -> object:
        """`fit`'s `validation_data` for a learning curve: the validation split, always."""
        return _as_data(self.validation)

    def seeded_train(self, seed: int) -> tuple[object, ...]:
        """`fit`'s positional arguments for a run seeded `seed` (the pipeline's order)."""
        return self.train if self.training_data is None else (self.training_data(seed),)


def training_inputs(config: SearchConfig, splits: Splits, *, held_out: str = "val"
                    ) -> TrainingInputs:
    """A seeded tf.data pipeline where TensorFlow is installed, else arrays in memory.

    Either way the images stay uint8 at their stored size: the models built from
    `space_context` resize, augment and scale them on the device. GPU machines with JAX or
    PyTorch but no TensorFlow train from the arrays, shuffled by Keras. Measured on a 2-core
    CPU (benchmarks/README.md section 9), resizing in the model is not slower than tf.data
    resizing on the host, so TensorFlow takes the same path.

    Args:
        config: Batch size and seed.
        splits: The data.
        held_out: The split to validate or test on: "val" (the search) or "test" (the
            confirmation reruns).
    """
    if held_out not in ("val", "test"):
        raise ValueError(f"`held_out` must be 'val' or 'test', but got {held_out!r}.")
    held_images, held_labels = ((splits.val_images, splits.val_labels) if held_out == "val"
                                else (splits.test_images, splits.test_labels))
    if not _has_tensorflow():
        return TrainingInputs(
            train=(splits.train_images, splits.train_labels),
            held_out=(held_images, held_labels),
            validation=(splits.val_images, splits.val_labels),
            batching={"batch_size": config.batch_size}, shuffle=True, training_data=None)

    def training_data(seed: int) -> object:
        return make_dataset(splits.train_images, splits.train_labels,
                            batch_size=config.batch_size, training=True, seed=seed)

    held_out_data = make_dataset(held_images, held_labels, batch_size=config.batch_size,
                                 training=False)
    validation_data = held_out_data if held_out == "val" else make_dataset(
        splits.val_images, splits.val_labels, batch_size=config.batch_size, training=False)
    # shuffle=False: the pipeline already reshuffles every epoch, seeded per run.
    return TrainingInputs(train=(training_data(config.seed),), held_out=(held_out_data,),
                          validation=(validation_data,), batching={}, shuffle=False,
                          training_data=training_data)


@dataclasses.dataclass(frozen=True)
class RunSetup:
    """What every trial or rerun of one run trains with, made once by `prepare_run`.

    Attributes:
        config: The run's settings.
        splits: The data.
        inputs: What `fit` and `evaluate` are given (validation or test as held-out split).
        space: The search space's `build(hp)`, its context bound.
        architecture_params: The hyperparameters that change the graph (`spaces`).
        scientific_param: The hyperparameter the study is about (`spaces.scientific_param`).
        search_space: The space's module, imported once, for what else it declares.
        dtype_policy: The Keras dtype policy every model is built in.
        code_version: The code every trial and rerun runs on (`code_version`).
    """

    config: SearchConfig
    splits: Splits
    inputs: TrainingInputs
    space: Callable[[keras_tuner.HyperParameters], keras.Model]
    architecture_params: tuple[str, ...] | None
    scientific_param: str
    search_space: spaces.SearchSpace
    dtype_policy: str
    code_version: str = "unknown"

    def models(self, *, reuse: bool | None = None) -> TrialModels:
        """The space's models, reusing compiled ones per architecture (default: the config's)."""
        return TrialModels(self.space, dtype_policy=self.dtype_policy,
                           reuse=self.config.reuse_compiled if reuse is None else reuse,
                           architecture_params=self.architecture_params)

    def tuner(self, study: optuna.Study, *, tuner_class: type[OptunaTuner] = OptunaTuner,
              **options: object) -> OptunaTuner:
        """The tuner that runs this run's trials in `study`, as `python -m study.search` does.

        Args:
            study: The search study (`study.engine.search_run.open_study`).
            tuner_class: `OptunaTuner` or a subclass (benchmarks add stopwatches).
            **options: `OptunaTuner` arguments that replace the config's (e.g. `progress`).
        """
        config = self.config
        arguments: dict[str, object] = dict(
            study=study, max_trials=config.n_trials, timeout=config.timeout,
            balanced_param=self.scientific_param if config.balance else None, seed=config.seed,
            images_per_epoch=len(self.splits.train_images),
            training_data=self.inputs.training_data,
            keep_best_weights=False,  # the study keeps the results; confirm retrains from them
            architecture_params=self.architecture_params,
            reuse_compiled=config.reuse_compiled, dtype_policy=self.dtype_policy,
            code_version=self.code_version)
        arguments.update(options)
        hypermodel = arguments.pop("hypermodel", self.space)
        return tuner_class(hypermodel, **arguments)


def prepare_run(config: SearchConfig, *, held_out: str = "val", splits: Splits | None = None
                ) -> RunSetup:
    """Loads the data and the search space and readies the backend, for a search or reruns.

    Args:
        config: The validated run settings.
        held_out: "val" for the search, "test" for the confirmation reruns.
        splits: Data already loaded with `load_data(config)`, to skip loading it again.

    Returns:
        The set-up; nothing is written to any storage.

    Raises:
        ConfigError, DataError: for a dataset or search space that cannot be used.
    """
    splits = splits or load_data(config)
    if config.deterministic:
        enable_deterministic_ops()
    enable_jax_compilation_cache(jax_cache_dir(config.storage))
    search_space = spaces.load_search_space(config.search_space)  # imported once per run
    return RunSetup(
        config=config, splits=splits,
        inputs=training_inputs(config, splits, held_out=held_out),
        space=search_space.build_for(space_context(config, splits)),
        architecture_params=search_space.architecture_params,
        scientific_param=search_space.scientific_param, search_space=search_space,
        dtype_policy=dtype_policy(config), code_version=code_version())
