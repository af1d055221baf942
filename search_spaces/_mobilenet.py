"""What the built-in spaces share: a MobileNetV2 with a tuned learning rate and width.

Fixed hyperparameters, chosen once rather than tuned so that trials go to what matters:
- SGD with Nesterov momentum 0.9, as in the MobileNetV2 paper's family of recipes and the blog
  experiment this project re-examines;
- cosine decay of the learning rate to zero over the trial, so that the last epoch is not
  spent at a learning rate too high to settle;
- decoupled weight decay 4e-5, the MobileNetV2 paper's value;
- BatchNormalization momentum from `study.model.mobilenet_v2` (its default suits short trials).

Not a space itself: names starting with "_" are not listed as spaces.
"""

from __future__ import annotations

import keras
import keras_tuner

from study.model.mobilenet_v2 import build_mobilenet_v2
from study.model.schedules import cosine_decay_optimizer
from study.model.spaces import SpaceContext

__all__ = ["SGD_MOMENTUM", "WEIGHT_DECAY", "tuned_mobilenet_v2"]

WEIGHT_DECAY = 4e-5  # the MobileNetV2 paper's value
SGD_MOMENTUM = 0.9


def tuned_mobilenet_v2(hp: keras_tuner.HyperParameters, context: SpaceContext, *,
                       bn_position: str, activation: str) -> keras.Model:
    """A compiled MobileNetV2 whose `learning_rate` and `alpha` are the trial's to tune.

    Args:
        hp: The trial's hyperparameters; `learning_rate` and `alpha` are declared here.
        context: Stored input shape and its preprocessing, classes and trial length.
        bn_position: "before" or "after" the activation.
        activation: "relu6" or "hard_swish".

    Returns:
        The compiled model, returning logits, with the metric `accuracy`.
    """
    # Measured on the smoke study: Nesterov SGD diverges or stalls above ~0.1 and still learns
    # at 2e-3; the range spans both sides so that the best trials do not sit at an edge.
    learning_rate = hp.Float("learning_rate", 1e-4, 0.5, sampling="log")
    alpha = hp.Choice("alpha", [0.35, 0.5, 0.75, 1.0])
    model = build_mobilenet_v2(context.input_shape, context.num_classes, alpha=alpha,
                               bn_position=bn_position, activation=activation,
                               preprocessing=context.preprocessing)
    optimizer = cosine_decay_optimizer(
        keras.optimizers.SGD, learning_rate, decay_steps=max(1, context.total_steps),
        momentum=SGD_MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=context.jit_compile)
    return model
