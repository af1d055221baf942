"""The default search space: BN placement (scientific) beside learning rate and width (nuisance).

Asks whether BatchNormalization after ReLU6 ("after") differs from before it ("before", the
reference: the published MobileNetV2) once the learning rate and width are tuned for each.
The fixed hyperparameters (optimizer, schedule, weight decay) are in `search_spaces._mobilenet`.
"""

from __future__ import annotations

import keras
import keras_tuner

from search_spaces._mobilenet import tuned_mobilenet_v2
from study.model.mobilenet_v2 import BN_POSITIONS
from study.model.spaces import SpaceContext

__all__ = ["ARCHITECTURE_PARAMS", "REFERENCE_VALUE", "SCIENTIFIC_PARAM", "build"]

SCIENTIFIC_PARAM = "bn_position"  # what the study asks about; the rest is tuned for each value
REFERENCE_VALUE = "before"  # what the other value is compared with: the published model

# The hyperparameters that change the graph; the learning rate only changes the value of an
# optimizer variable, so trials of one (placement, width) reuse one compiled model.
ARCHITECTURE_PARAMS = (SCIENTIFIC_PARAM, "alpha")


def build(hp: keras_tuner.HyperParameters, context: SpaceContext) -> keras.Model:
    """Builds and compiles a MobileNetV2 for one trial.

    Args:
        hp: The trial's hyperparameters: `bn_position`, `learning_rate`, `alpha`.
        context: Stored input shape and its preprocessing, classes and trial length.

    Returns:
        The compiled model, returning logits, with the metric `accuracy`.
    """
    bn_position = hp.Choice(SCIENTIFIC_PARAM, list(BN_POSITIONS))
    return tuned_mobilenet_v2(hp, context, bn_position=bn_position, activation="relu6")
