"""Search spaces as plain `build(hp, context)` functions, registered by name."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from search_spaces.context import SpaceContext

if TYPE_CHECKING:
    import keras
    import keras_tuner

__all__ = ["DEFAULT_SEARCH_SPACE", "SEARCH_SPACES", "SpaceContext", "get_search_space"]

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
    if name not in SEARCH_SPACES:
        raise ValueError(f"`search_space` must be one of {sorted(SEARCH_SPACES)}, "
                         f"but got {name!r}.")
    module = importlib.import_module(SEARCH_SPACES[name])
    return functools.partial(module.build, context=context)
