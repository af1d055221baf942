"""Runs a search from a `SearchConfig`: data in, trials through the tuner, study out."""

from __future__ import annotations

import dataclasses
import gc
import math
import platform
import sys
from collections.abc import Callable
from typing import TextIO

import optuna

from study.compiled_models import enable_jax_compilation_cache, jax_cache_dir
from study.config import SearchConfig
from study.contract import SCIENTIFIC_PARAM
from study.data import DEFAULT_DATASET, Splits, load_splits, make_dataset
from study.precision import dtype_policy_for
from study.preprocessing import Preprocessing
from study.progress import Progress
from study.spaces import SpaceContext, architecture_params, get_search_space
from study.storage import mask_password, open_storage, open_study
from study.tuner import OptunaTuner

__all__ = ["TrainingInputs", "dtype_policy", "enable_deterministic_ops",
           "freeze_loaded_objects", "library_versions", "load_data", "run_search",
           "space_context", "study_record", "training_inputs"]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a trial's result, for the study's record."""
    import keras
    import keras_tuner

    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "keras_tuner": keras_tuner.__version__, "optuna": optuna.__version__,
                "backend": keras.backend.backend()}
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


def freeze_loaded_objects() -> None:
    """Hides every object alive now from the garbage collector's full collections (gc.freeze).

    TensorFlow, Keras and the data leave about 480,000 long-lived objects, and every full
    collection between trials (Keras Tuner runs two before each build) walks them all: 0.3 s
    each on a 2-core CPU. Frozen, they are skipped; a collection then walks what the trials
    made. Call it once, after set-up, in a process that runs trials to its end: objects alive
    now are never collected afterwards.
    """
    gc.collect()
    gc.freeze()


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


def study_record(config: SearchConfig, splits: Splits) -> dict[str, object]:
    """What a new study stores as its `config` user attribute: the settings and the data.

    The storage URL is stored with its password masked, so that neither the study nor the
    reports made from it show one; `study.confirm` takes the live URL from its command line.
    """
    return dataclasses.asdict(config) | {
        "storage": mask_password(config.storage),
        "study_name": config.resolved_study_name,
        "num_classes": splits.num_classes,
        "train_images": len(splits.train_images), "val_images": len(splits.val_images),
        # What crosses to the device: uint8 images of this shape, resized in the model.
        "stored_image_shape": list(splits.train_images.shape[1:]),
        "dtype_policy": dtype_policy(config), "versions": library_versions()}


def run_search(config: SearchConfig, *, stream: TextIO | None = None,
               splits: Splits | None = None, freeze_objects: bool = False) -> optuna.Study:
    """Creates or resumes the study and runs trials until its budget or timeout is used.

    Args:
        config: The validated run settings.
        stream: Where progress lines go (default stdout); None is stdout, not silence.
        splits: Data already loaded with `load_data(config)`, to skip loading it again.
        freeze_objects: Call `freeze_loaded_objects()` before the first trial (about 1 s less
            per trial); for a process that ends with the search, like the CLI's.

    Returns:
        The study, with every trial of every process so far.

    Raises:
        ConfigError, DataError, StorageError: for wrong settings or a storage that cannot be
            used (see `open_storage`), before anything is written to storage.
    """
    splits = splits or load_data(config)
    storage = open_storage(config.storage)
    study = open_study(config, storage, study_record(config, splits))
    if config.deterministic:
        enable_deterministic_ops()
    enable_jax_compilation_cache(jax_cache_dir(config.storage))
    inputs = training_inputs(config, splits)
    build = get_search_space(config.search_space, space_context(config, splits))
    tuner = OptunaTuner(
        build, study=study, n_trials=config.n_trials, timeout=config.timeout,
        balanced_param=SCIENTIFIC_PARAM if config.balance else None, seed=config.seed,
        images_per_epoch=len(splits.train_images), training_data=inputs.training_data,
        progress=Progress(config.n_trials, config.epochs, stream=stream),
        keep_best_weights=False,  # the study keeps the results; confirm retrains from them
        architecture_params=architecture_params(config.search_space),
        reuse_compiled=config.reuse_compiled, dtype_policy=dtype_policy(config))
    if freeze_objects:
        freeze_loaded_objects()
    tuner.search(*inputs.train, epochs=config.epochs, **inputs.fit_kwargs)
    return study


def _has_tensorflow() -> bool:
    try:
        import tensorflow  # noqa: F401  (the tf.data pipeline imports it anyway)
    except ImportError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class TrainingInputs:
    """What `fit` and `evaluate` are given, from a tf.data pipeline or from arrays alike.

    Attributes:
        train: `fit`'s positional arguments: (dataset,) or (images, labels).
        held_out: `evaluate`'s positional arguments for the held-out split, in the same form.
        batching: {"batch_size": n} for arrays; empty for datasets, which are batched.
        shuffle: Whether `fit` shuffles (arrays); a pipeline reshuffles itself.
        training_data: Makes the training dataset for a seed (pipelines), else None.
    """

    train: tuple[object, ...]
    held_out: tuple[object, ...]
    batching: dict[str, object]
    shuffle: bool
    training_data: Callable[[int], object] | None

    @property
    def fit_kwargs(self) -> dict[str, object]:
        """`fit`'s keyword arguments, with the held-out split as `validation_data`."""
        validation = self.held_out[0] if len(self.held_out) == 1 else self.held_out
        return {"validation_data": validation, "shuffle": self.shuffle, **self.batching}

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
            batching={"batch_size": config.batch_size}, shuffle=True, training_data=None)

    def training_data(seed: int) -> object:
        return make_dataset(splits.train_images, splits.train_labels, image_size=None,
                            batch_size=config.batch_size, training=True, seed=seed)

    held_out_data = make_dataset(held_images, held_labels, image_size=None,
                                 batch_size=config.batch_size, training=False)
    # shuffle=False: the pipeline already reshuffles every epoch, seeded per run.
    return TrainingInputs(train=(training_data(config.seed),), held_out=(held_out_data,),
                          batching={}, shuffle=False, training_data=training_data)
