"""A second question: does hard-swish instead of ReLU6 matter once the rest is tuned?

MobileNetV3 replaced ReLU6 with hard-swish (x * ReLU6(x + 3) / 6). This space asks whether
that change alone matters in MobileNetV2, with BN placement fixed before the activation (the
published model) and the learning rate and width tuned for each activation, as the default
space tunes them for each BN placement. ReLU6, the paper's, is the reference.

    python -m study.run --search-space activation --study-name activation
"""

from __future__ import annotations

import keras
import keras_tuner

from search_spaces._mobilenet import tuned_mobilenet_v2
from study.model.mobilenet_v2 import ACTIVATIONS
from study.model.spaces import SpaceContext

__all__ = ["ARCHITECTURE_PARAMS", "REFERENCE_VALUE", "SCIENTIFIC_PARAM", "build"]

SCIENTIFIC_PARAM = "activation"
REFERENCE_VALUE = "relu6"  # the paper's activation, the one hard-swish is compared with
ARCHITECTURE_PARAMS = (SCIENTIFIC_PARAM, "alpha")  # the learning rate is a variable's value


def build(hp: keras_tuner.HyperParameters, context: SpaceContext) -> keras.Model:
    """Builds and compiles a MobileNetV2 (BN before the activation) for one trial.

    Args:
        hp: The trial's hyperparameters: `activation`, `learning_rate`, `alpha`.
        context: Stored input shape and its preprocessing, classes and trial length.

    Returns:
        The compiled model, returning logits, with the metric `accuracy`.
    """
    activation = hp.Choice(SCIENTIFIC_PARAM, list(ACTIVATIONS))
    return tuned_mobilenet_v2(hp, context, bn_position="before", activation=activation)
