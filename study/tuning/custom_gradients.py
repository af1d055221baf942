"""Frees each trial's train-step graph, which TensorFlow's custom-gradient registry would keep.

In graph mode `tf.custom_gradient` registers its gradient function in TensorFlow's process-wide
gradient registry under a fresh name ("CustomGradient-<uid>") and never removes it. That
function's closure holds the traced tensors, hence the whole graph they belong to. Keras's
TensorFlow optimizer goes through it each time a train step is traced (its gradient all-reduce,
even with one device), so without this module every trial's train step stays in memory for
the life of the process: about 128 MB per trial for MobileNetV2 at alpha 0.35, 32x32
(`benchmarks/memory.py`; TensorFlow issues #27492 and #97697). `keras.backend.clear_session()`
and `gc.collect()` do not help, since the registry is a live global.

A registration is looked up only while a gradient graph is being traced, so once a trial's
model is gone the registrations made during that trial are dead weight: dropping them lets the
garbage collector free the graph.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from study import private_api

__all__ = ["custom_gradient_names", "released_custom_gradients"]

_PREFIX = "CustomGradient-"


def custom_gradient_names() -> set[str]:
    """Names of the custom gradients TensorFlow holds now; empty if TensorFlow is not loaded."""
    registry = private_api.tensorflow_gradient_registry()
    return {name for name in registry if name.startswith(_PREFIX)} if registry else set()


@contextlib.contextmanager
def released_custom_gradients() -> Iterator[None]:
    """Drops, on leaving the block, the custom gradients TensorFlow registered inside it.

    Wrap code whose models and traced functions are not used after the block (one trial);
    custom gradients registered before it are kept. Does nothing when TensorFlow is not
    loaded, e.g. under `KERAS_BACKEND=jax`.
    """
    before = custom_gradient_names()
    try:
        yield
    finally:
        registry = private_api.tensorflow_gradient_registry()
        for name in custom_gradient_names() - before:
            registry.pop(name, None)
