"""Search spaces as plain `build(hp, context)` functions, registered by name."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from search_spaces.context import SpaceContext

if TYPE_CHECKING:
    import keras
    import keras_tuner

__all__ = ["DEFAULT_SEARCH_SPACE", "SEARCH_SPACES", "SpaceContext", "architecture_params",
           "get_search_space"]

DEFAULT_SEARCH_SPACE = "bn_placement"
# Name -> module holding `build(hp, context)`. Imported on demand so that listing the names
# does not import Keras.
SEARCH_SPACES: dict[str, str] = {
    "bn_placement": "search_spaces.bn_placement",
}


def get_search_space(name: str, context: SpaceContext
                     ) -> Callable[[keras_tuner.HyperParameters], keras.Model]:
    """The registered space `name` as the `build(hp)` function Keras Tuner expects.

    Args:
        name: A key of `SEARCH_SPACES`.
        context: Facts of the run the models are built for.

    Returns:
        `build(hp)` with the context bound.

    Raises:
        ValueError: when `name` is not registered.
    """
    return functools.partial(_module(name).build, context=context)


def architecture_params(name: str) -> tuple[str, ...] | None:
    """The hyperparameters of space `name` that change the graph, or None if it does not say.

    A space declares them as `ARCHITECTURE_PARAMS`; its other hyperparameters must then only
    change values held in variables, so that trials can reuse compiled models
    (`study.compiled_models`).

    Raises:
        ValueError: when `name` is not registered.
    """
    declared = getattr(_module(name), "ARCHITECTURE_PARAMS", None)
    return None if declared is None else tuple(declared)


def _module(name: str) -> ModuleType:
    if name not in SEARCH_SPACES:
        raise ValueError(f"`search_space` must be one of {sorted(SEARCH_SPACES)}, "
                         f"but got {name!r}.")
    return importlib.import_module(SEARCH_SPACES[name])
