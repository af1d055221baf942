"""Compile once per architecture: trials of an architecture already trained reuse its model.

A search trains the same few architectures again and again (the default space has 8: 4 widths
x 2 placements). Building and compiling a new model for every trial makes the backend trace
(TensorFlow) or compile (XLA under JAX) the train and test steps again: 17-26 s a trial on a
2-core CPU, about a minute at 224x224 on a GPU. A search space that says which hyperparameters
change the graph (`architecture_params`) lets a trial on an architecture already compiled in
this process take that model instead, given exactly the state a fresh build would have:

- every weight, BatchNorm moving statistics included, from a model freshly built with the
  trial's seed (building is cheap; tracing is what costs), so nothing of an earlier trial,
  diverged or pruned, is left;
- the optimizer's variables from that fresh model's optimizer: step count and momenta zero,
  and every value-only hyperparameter (a learning rate held in a variable) at the trial's value;
- metrics reset; no `compile()` and no `keras.backend.clear_session()`, so nothing retraces.

The contract for a space that declares `architecture_params`: every other hyperparameter only
changes values held in the model's or the optimizer's variables (see `study.model.schedules` for a
learning-rate schedule whose base value is such a variable). Spaces that do not declare it are
built fresh every trial, as Keras Tuner does.
"""

from __future__ import annotations

import gc
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import keras
import keras_tuner

__all__ = ["COMPILED_NEW", "COMPILED_REUSED", "DEFAULT_MAX_MODELS", "JAX_CACHE_ENV",
           "TrialModels", "enable_jax_compilation_cache", "jax_cache_dir", "reinitialize"]

COMPILED_NEW = "new"
COMPILED_REUSED = "reused"
# The default space has 8 architectures, so a whole study fits. Measured with
# benchmarks/memory.py --reuse (TensorFlow, 32x32): all 8 compiled MobileNetV2s with their
# traced steps took RSS 2.7 GB above its start, about 330 MB a model; a 24 GB machine keeps
# them easily, and the least recently used goes first in larger spaces.
DEFAULT_MAX_MODELS = 8
JAX_CACHE_ENV = "BNSTUDY_JAX_CACHE"


class TrialModels(keras_tuner.HyperModel):
    """Builds each trial's model under the asked dtype policy; reuses compiled architectures.

    Wraps a `build(hp)` function or `HyperModel`. `build(hp)` sets the dtype policy first
    (Keras Tuner's `clear_session()` before each build resets Keras' global policy to float32,
    so a policy set once before the search would be lost), then builds a fresh model; when
    reuse is on and a model of the same architecture is cached, that model is re-initialised
    from the fresh one and returned instead.

    Args:
        hypermodel: The search space: `build(hp) -> compiled keras.Model`, or a `HyperModel`.
        dtype_policy: Keras dtype policy name for every model, e.g. "mixed_float16"; None
            takes Keras' global policy at construction time.
        architecture_params: Hyperparameters that change the graph; None means unknown, and
            every trial builds a new model.
        reuse: Whether to reuse cached models (needs `architecture_params`).
        max_models: Compiled models kept, least recently used dropped first.
    """

    def __init__(self, hypermodel: keras_tuner.HyperModel | object, *,
                 dtype_policy: str | None = None,
                 architecture_params: Sequence[str] | None = None, reuse: bool = True,
                 max_models: int = DEFAULT_MAX_MODELS) -> None:
        if max_models < 1:
            raise ValueError(f"`max_models` must be positive, but got {max_models}.")
        super().__init__()
        # A plain function trains with `model.fit`, Keras Tuner's default `HyperModel.fit`.
        self.hypermodel = hypermodel
        self.dtype_policy = dtype_policy or keras.config.dtype_policy().name
        self.architecture_params = (None if architecture_params is None
                                    else tuple(architecture_params))
        self.reuse = reuse and self.architecture_params is not None
        self.max_models = max_models
        self.last_build = COMPILED_NEW  # how the last model was obtained: new or reused
        self._models: OrderedDict[tuple[object, ...], keras.Model] = OrderedDict()

    def architecture_key(self, hp: keras_tuner.HyperParameters) -> tuple[object, ...]:
        """What identifies a compiled graph: architecture hyperparameters and dtype policy."""
        names = self.architecture_params or ()
        return (self.dtype_policy, *((name, hp.values.get(name)) for name in names))

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """A newly built model under the dtype policy; never cached."""
        keras.config.set_dtype_policy(self.dtype_policy)
        build = getattr(self.hypermodel, "build", self.hypermodel)
        self.last_build = COMPILED_NEW
        return build(hp)

    def build_for_trial(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """The trial's model, in the state a fresh build with the current seed gives.

        With reuse on, a cached model of the same architecture re-initialised from a fresh
        build (`last_build` is then "reused"); else the fresh model, cached for later trials.
        """
        fresh = self.build(hp)
        if not self.reuse or getattr(fresh, "optimizer", None) is None:  # uncompiled: keep nothing
            return fresh
        key = self.architecture_key(hp)
        cached = self._models.get(key)
        if cached is None:
            self._models[key] = fresh
            self._models.move_to_end(key)
            while len(self._models) > self.max_models:
                self._models.popitem(last=False)
            return fresh
        self._models.move_to_end(key)
        reinitialize(cached, fresh)
        # Keras Tuner's gc.collect() before each build is skipped with its clear_session(); a
        # model is a web of reference cycles, so without a collection the fresh models and
        # their weights pile up until Python's rare full collection (measured: +26 MB a trial).
        del fresh
        gc.collect()
        self.last_build = COMPILED_REUSED
        return cached

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: object,
            **kwargs: object) -> object:
        """Trains as the wrapped hypermodel does (by default `model.fit`)."""
        if isinstance(self.hypermodel, keras_tuner.HyperModel):
            return self.hypermodel.fit(hp, model, *args, **kwargs)
        return super().fit(hp, model, *args, **kwargs)

    def cached_models(self) -> int:
        """How many compiled models are kept now."""
        return len(self._models)


def reinitialize(model: keras.Model, fresh: keras.Model) -> None:
    """Gives a compiled model the state of `fresh`, a newly built model of the same architecture.

    Weights (trainable and not: BatchNorm moving statistics too) and the optimizer variables
    made at construction (step count, learning-rate variables, loss scale) are copied from
    `fresh`; the optimizer's slots (momenta) are zeroed, as Keras' optimizers start them;
    metrics are reset. The
    model's compiled train and test steps are kept, so training it does not trace again.

    Raises:
        ValueError: when the two models or their optimizers do not have the same variables.
    """
    _assign_all("weights", model.variables, fresh.variables)
    if getattr(fresh, "optimizer", None) is None or getattr(model, "optimizer", None) is None:
        raise ValueError("`model` and `fresh` must both be compiled, but one has no optimizer.")
    # The fresh optimizer is not built: building it only to copy its zero slots leaked about
    # 5 MB a trial on TensorFlow (measured). Its variables are the ones made at construction
    # (step count, learning rates, loss scale); the reused optimizer's others are its slots
    # (momenta, moment estimates), which Keras' optimizers start at zero.
    fresh_by_name: dict[str, list[keras.Variable]] = {}
    for variable in fresh.optimizer.variables:  # names repeat (a loss-scale optimizer's own
        fresh_by_name.setdefault(variable.name, []).append(variable)  # and its inner one's)
    for variable in model.optimizer.variables:
        same_name = fresh_by_name.get(variable.name)
        variable.assign(same_name.pop(0).value if same_name
                        else keras.ops.zeros_like(variable.value))
    model.reset_metrics()
    model.stop_training = False


def _assign_all(what: str, targets: Sequence[keras.Variable],
                sources: Sequence[keras.Variable]) -> None:
    shapes = [tuple(variable.shape) for variable in targets]
    fresh_shapes = [tuple(variable.shape) for variable in sources]
    if shapes != fresh_shapes:
        raise ValueError(f"`fresh` must have the same {what} as the reused model, but got "
                         f"{len(fresh_shapes)} with other shapes than its {len(shapes)}.")
    for target, source in zip(targets, sources, strict=True):
        target.assign(source.value)


def jax_cache_dir(storage_url: str) -> Path:
    """Where JAX keeps compiled programs for a study: `$BNSTUDY_JAX_CACHE`, else beside it.

    A SQLite study's cache sits in `jax_cache/` beside the database file; any other storage
    uses `studies/jax_cache`.
    """
    if os.environ.get(JAX_CACHE_ENV):
        return Path(os.environ[JAX_CACHE_ENV])
    prefix = "sqlite:///"
    if storage_url.startswith(prefix):
        return Path(storage_url[len(prefix):]).parent / "jax_cache"
    return Path("studies") / "jax_cache"


def enable_jax_compilation_cache(directory: Path) -> bool:
    """Turns on JAX's persistent compilation cache in `directory` when Keras runs on JAX.

    A second worker, or a rerun, on the same machine then loads the XLA programs of
    architectures compiled once instead of compiling them again (the key is the program,
    jaxlib version, flags and devices; layer names do not matter).

    Returns:
        True when the cache was turned on; False on other backends.
    """
    if keras.backend.backend() != "jax":
        return False
    import jax

    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    return True
