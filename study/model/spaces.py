"""Search spaces as plugins: modules with a `build(hp, context)` function, found by name.

A built-in space is a module of the `search_spaces` package, named by its file name
(`bn_placement` is `search_spaces/bn_placement.py`); a space of your own is named by its
dotted module path (`mylab.spaces.wide`), importable from where the study runs. The module
defines `build(hp, context) -> keras.Model` (compiled) and may declare `ARCHITECTURE_PARAMS`
(see `architecture_params`), `SCIENTIFIC_PARAM` (see `scientific_param`) and `REFERENCE_VALUE`
(see `space_question`).

Spaces are imported only when models are built, by name: `search_spaces` depends on `study`
(its spaces use `study.model.mobilenet_v2`), never the other way round, and checking a name imports
neither Keras nor the space.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.model.preprocessing import Preprocessing
from study.storage.contract import SCIENTIFIC_PARAM
from study.storage.question import Question

if TYPE_CHECKING:
    import keras
    import keras_tuner

__all__ = ["BUILT_IN_PACKAGE", "SearchSpace", "SpaceContext", "architecture_params",
           "built_in_spaces", "check_search_space", "get_search_space", "load_search_space",
           "scientific_param", "space_question"]

BUILT_IN_PACKAGE = "search_spaces"


@dataclass(frozen=True)
class SpaceContext:
    """Facts of the run that are not hyperparameters, given to every `build(hp, context)`.

    Attributes:
        input_shape: Model input, (height, width, channels): the stored uint8 images' shape
            when `preprocessing` is set, else the network's float input.
        num_classes: Number of classes; the model returns that many logits.
        steps_per_epoch: Optimizer steps per epoch, for learning-rate schedules.
        epochs: Epochs per trial, for learning-rate schedules.
        jit_compile: Passed to `model.compile`; "auto" lets Keras decide (XLA off on CPU).
        preprocessing: What the model's first layer does to the stored images (resize to
            the trial's image size, augment, scale); pass it to
            `study.model.mobilenet_v2.build_mobilenet_v2`, or call it on the uint8 `keras.Input`.
    """

    input_shape: tuple[int, int, int]
    num_classes: int
    steps_per_epoch: int
    epochs: int
    jit_compile: bool | str = "auto"
    preprocessing: Preprocessing | None = None

    @property
    def total_steps(self) -> int:
        """Optimizer steps in a whole trial."""
        return self.steps_per_epoch * self.epochs


def built_in_spaces() -> list[str]:
    """The names of the spaces in the `search_spaces` package, found without importing it."""
    spec = importlib.util.find_spec(BUILT_IN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(module.name for module in pkgutil.iter_modules(spec.submodule_search_locations)
                  if not module.name.startswith("_"))


def check_search_space(name: str) -> str:
    """Checks that the space called `name` can be found, without importing it or Keras.

    Args:
        name: A built-in space's name (`bn_placement`) or a dotted module path.

    Returns:
        The name of the module that holds the space.

    Raises:
        ConfigError: when no such module can be found.
    """
    module = name if "." in name else f"{BUILT_IN_PACKAGE}.{name}"
    found = False
    if all(part.isidentifier() for part in name.split(".")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a parent package of a dotted path is missing
            found = False
    if not found:
        raise ConfigError(f"`search_space` must be one of {built_in_spaces()} or the dotted "
                          f"path of a module defining build(hp, context), but got {name!r}.")
    return module


@dataclass(frozen=True)
class SearchSpace:
    """A search space's module, imported once per command (`load_search_space`), and what it
    declares: its `build` (`build_for`), `ARCHITECTURE_PARAMS`, `SCIENTIFIC_PARAM` and question.
    """

    module: ModuleType

    def build_for(self, context: SpaceContext
                  ) -> Callable[[keras_tuner.HyperParameters], keras.Model]:
        """The module's `build(hp, context)` with the context bound: what Keras Tuner calls."""
        return functools.partial(self.module.build, context=context)

    @property
    def architecture_params(self) -> tuple[str, ...] | None:
        """The hyperparameters that change the graph, or None if the space does not say.

        A space declares them as `ARCHITECTURE_PARAMS`; its other hyperparameters must then
        only change values held in variables, so that trials can reuse compiled models
        (`study.tuning.compiled_models`).
        """
        declared = getattr(self.module, "ARCHITECTURE_PARAMS", None)
        return None if declared is None else tuple(declared)

    @property
    def scientific_param(self) -> str:
        """The hyperparameter the space is about: its `SCIENTIFIC_PARAM`, else `bn_position`.

        A search balances its trials over this parameter's values and prunes a trial only by
        comparison with trials of its own value; the reruns and the analysis compare its values.

        Raises:
            ConfigError: when the declared parameter is not a non-empty string.
        """
        declared = getattr(self.module, "SCIENTIFIC_PARAM", SCIENTIFIC_PARAM)
        if not isinstance(declared, str) or not declared:
            raise ConfigError(f"`SCIENTIFIC_PARAM` of {self.module.__name__} must name a "
                              f"hyperparameter, but got {declared!r}.")
        return declared

    def question(self, hyperparameters: keras_tuner.HyperParameters) -> Question:
        """The question the space asks: its scientific parameter's values, the reference first.

        The values are those of the space's `hp.Choice` for the parameter, as Keras Tuner found
        them when it built the first model (`tuner.oracle.hyperparameters`); the reference is
        the module's `REFERENCE_VALUE`, else the first value listed.

        Raises:
            ConfigError: when the parameter is not a `Choice` of the space, or the reference is
                not one of its values.
        """
        import keras_tuner

        hp_types = keras_tuner.engine.hyperparameters
        name, param = self.module.__name__, self.scientific_param
        declared = next((hp for hp in hyperparameters.space if hp.name == param), None)
        if not isinstance(declared, hp_types.Choice):
            kind = "nothing" if declared is None else type(declared).__name__
            raise ConfigError(f"`SCIENTIFIC_PARAM` of {name} must name a hp.Choice of its "
                              f"space, but {param!r} is {kind}.")
        values = list(declared.values)
        reference = getattr(self.module, "REFERENCE_VALUE", values[0])
        if reference not in values:
            raise ConfigError(f"`REFERENCE_VALUE` of {name} must be one of {values}, but got "
                              f"{reference!r}.")
        return Question(param, (reference, *(value for value in values if value != reference)))


def load_search_space(name: str) -> SearchSpace:
    """Imports the space called `name` once (see `check_search_space` for the names).

    Raises:
        ConfigError: when the module cannot be found, raises while imported, or defines no
            `build`.
    """
    return SearchSpace(_load(name))


# Shorthands by name for one question each (tests, notebooks); a command loads its space once
# with `load_search_space` and asks the `SearchSpace`.
def get_search_space(name: str, context: SpaceContext
                     ) -> Callable[[keras_tuner.HyperParameters], keras.Model]:
    """`load_search_space(name).build_for(context)`."""
    return load_search_space(name).build_for(context)


def architecture_params(name: str) -> tuple[str, ...] | None:
    """`load_search_space(name).architecture_params`."""
    return load_search_space(name).architecture_params


def scientific_param(name: str) -> str:
    """`load_search_space(name).scientific_param`."""
    return load_search_space(name).scientific_param


def space_question(name: str, hyperparameters: keras_tuner.HyperParameters) -> Question:
    """`load_search_space(name).question(hyperparameters)`."""
    return load_search_space(name).question(hyperparameters)


def _load(name: str) -> ModuleType:
    found = check_search_space(name)
    try:
        module = importlib.import_module(found)
    except Exception as error:  # a user's module may raise anything while it is imported
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise ConfigError(f"`search_space` must import cleanly, but importing {found} raised "
                          f"{type(error).__name__}: {first_line}").with_traceback(None) from None
    if not callable(getattr(module, "build", None)):
        raise ConfigError(f"`search_space` must name a module defining build(hp, context), "
                          f"but {module.__name__} defines no `build`.")
    return module
