"""Tests for study.model.mobilenet_v2: faithful to keras.applications' MobileNetV2, BN switch."""

from __future__ import annotations

import functools
import re

import keras
import numpy as np
import pytest
from keras import layers

from study.model.mobilenet_v2 import BN_POSITIONS, MIN_IMAGE_SIZE, build_mobilenet_v2
from study.model.preprocessing import LAYER_NAME, Preprocessing

# keras.applications.MobileNetV2(weights=None, classes=1000) at 224x224 (shared/REFERENCE.md).
REFERENCE_PARAM_COUNTS = {
    0.35: 1_691_208,
    0.5: 1_987_224,
    0.75: 2_663_064,
    1.0: 3_538_984,
    1.3: 5_431_048,
    1.4: 6_156_712,
}
# Stem, last conv, 16 expand and 17 depthwise convolutions each have a ReLU6.
NUM_RELUS = 35
NUM_PROJECTIONS = 17
# Blocks with stride 1 and unchanged channels: 1 + 2 + 3 + 2 + 2 of the 17.
NUM_RESIDUAL_ADDS = 10
SMALL_SHAPE = (MIN_IMAGE_SIZE, MIN_IMAGE_SIZE, 3)


@pytest.fixture
def release_keras_state():
    """Frees Keras' global state after a test that builds full-size networks.

    Only heavy tests use it: with garbage collection each call takes about 0.4 s.
    """
    yield
    keras.backend.clear_session()


@pytest.fixture(scope="module")
def small_models() -> dict[str, keras.Model]:
    """The smallest model for each placement, built once for all graph-inspecting tests."""
    return {
        bn_position: build_mobilenet_v2(SMALL_SHAPE, 10, alpha=0.35, bn_position=bn_position)
        for bn_position in BN_POSITIONS
    }


@pytest.fixture(scope="module")
def small_reference() -> keras.Model:
    return _keras_mobilenet_v2(0.35, SMALL_SHAPE, num_classes=10)


def _keras_mobilenet_v2(
    alpha: float, input_shape: tuple[int, int, int], num_classes: int = 1000
) -> keras.Model:
    return keras.applications.MobileNetV2(
        weights=None,
        classifier_activation=None,
        alpha=alpha,
        input_shape=input_shape,
        classes=num_classes,
    )


@functools.cache
def _keras_param_count(alpha: float) -> int:
    # Cached so each width is built once, not once per placement.
    return _keras_mobilenet_v2(alpha, (224, 224, 3)).count_params()


def _producers(layer: layers.Layer) -> list[layers.Layer]:
    """Layers whose outputs feed `layer`, read from the functional graph."""
    return [node.operation for node in layer._inbound_nodes[0].parent_nodes]


def _consumers(model: keras.Model) -> dict[str, list[layers.Layer]]:
    """For each layer name, the layers that take its output."""
    consumers = {layer.name: [] for layer in model.layers}
    for layer in model.layers:
        for producer in _producers(layer):
            consumers[producer.name].append(layer)
    return consumers


def _weight_shapes(model: keras.Model) -> dict[str, list[tuple[int, ...]]]:
    return {
        layer.name: [tuple(weight.shape) for weight in layer.weights]
        for layer in model.layers
        if layer.weights
    }


@pytest.mark.usefixtures("release_keras_state")
@pytest.mark.parametrize("bn_position", BN_POSITIONS)
@pytest.mark.parametrize("alpha", sorted(REFERENCE_PARAM_COUNTS))
def test_parameter_count_matches_keras_applications(alpha: float, bn_position: str) -> None:
    model = build_mobilenet_v2((224, 224, 3), 1000, alpha=alpha, bn_position=bn_position)

    assert model.count_params() == REFERENCE_PARAM_COUNTS[alpha]
    assert model.count_params() == _keras_param_count(alpha)


@pytest.mark.usefixtures("release_keras_state")
@pytest.mark.parametrize("augment", [False, True])
@pytest.mark.parametrize("alpha", [0.35, 1.0])
def test_preprocessing_in_the_model_adds_no_parameters(alpha: float, augment: bool) -> None:
    model = build_mobilenet_v2((28, 28, 1), 1000, alpha=alpha,
                               preprocessing=Preprocessing(224, augment=augment))

    assert model.count_params() == REFERENCE_PARAM_COUNTS[alpha]
    assert model.input.dtype == "uint8" and tuple(model.input.shape) == (None, 28, 28, 1)
    assert model.layers[1].name == LAYER_NAME
    assert model.name == f"mobilenetv2_{alpha:0.2f}_224_bn_before"


@pytest.mark.usefixtures("release_keras_state")
def test_preprocessing_in_the_model_computes_what_float_inputs_did(host_inputs) -> None:
    images = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    keras.utils.set_random_seed(0)
    stored = build_mobilenet_v2((28, 28, 1), 10, alpha=0.35, preprocessing=Preprocessing(32))
    keras.utils.set_random_seed(0)
    floats = build_mobilenet_v2((32, 32, 3), 10, alpha=0.35)

    np.testing.assert_allclose(stored.predict(images, verbose=0),
                               floats.predict(host_inputs(images, image_size=32), verbose=0),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("bn_position", BN_POSITIONS)
def test_layers_and_weight_shapes_match_keras_applications(
    bn_position: str, small_models: dict[str, keras.Model], small_reference: keras.Model
) -> None:
    reference = small_reference
    model = small_models[bn_position]

    # Same names and shapes is what lets weights be copied layer by layer.
    assert _weight_shapes(model) == _weight_shapes(reference)
    if bn_position == "before":
        assert [type(layer) for layer in model.layers] == [
            type(layer) for layer in reference.layers
        ]
    else:
        assert sorted(type(layer).__name__ for layer in model.layers) == sorted(
            type(layer).__name__ for layer in reference.layers
        )


@pytest.mark.usefixtures("release_keras_state")
@pytest.mark.parametrize(
    ("alpha", "input_shape"),
    # 97x75 makes every stride-2 stage see odd and non-square sizes, the other branch of the
    # padding rule.
    [(0.35, (96, 96, 3)), (1.0, (97, 75, 3))],
)
def test_before_computes_the_same_function_as_keras_applications(
    alpha: float, input_shape: tuple[int, int, int]
) -> None:
    rng = np.random.default_rng(0)
    reference = _keras_mobilenet_v2(alpha, input_shape)
    model = build_mobilenet_v2(input_shape, 1000, alpha=alpha, bn_position="before")
    for layer in reference.layers:
        if isinstance(layer, layers.BatchNormalization):
            # Fresh BN layers are the identity at inference and would hide a misplaced BN.
            channels = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, channels),  # gamma
                    rng.normal(0.0, 0.1, channels),  # beta
                    rng.normal(0.0, 0.1, channels),  # moving mean
                    rng.uniform(0.5, 1.5, channels),  # moving variance
                ]
            )
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())
    images = rng.uniform(-1.0, 1.0, (2, *input_shape)).astype("float32")

    expected = keras.ops.convert_to_numpy(reference(images, training=False))
    actual = keras.ops.convert_to_numpy(model(images, training=False))

    assert np.abs(expected).max() > 1e-2  # the comparison below is not between near-zeros
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4)


def test_before_puts_batch_norm_between_convolution_and_relu(
    small_models: dict[str, keras.Model],
) -> None:
    model = small_models["before"]

    relus = [layer for layer in model.layers if isinstance(layer, layers.ReLU)]
    assert len(relus) == NUM_RELUS
    for relu in relus:
        (batch_norm,) = _producers(relu)
        assert isinstance(batch_norm, layers.BatchNormalization), relu.name
        (conv,) = _producers(batch_norm)
        assert isinstance(conv, (layers.Conv2D, layers.DepthwiseConv2D)), relu.name


def test_after_puts_batch_norm_directly_after_every_relu(
    small_models: dict[str, keras.Model],
) -> None:
    model = small_models["after"]
    consumers = _consumers(model)

    relus = [layer for layer in model.layers if isinstance(layer, layers.ReLU)]
    assert len(relus) == NUM_RELUS
    for relu in relus:
        (conv,) = _producers(relu)
        assert isinstance(conv, (layers.Conv2D, layers.DepthwiseConv2D)), relu.name
        (batch_norm,) = consumers[relu.name]
        assert isinstance(batch_norm, layers.BatchNormalization), relu.name


@pytest.mark.parametrize("bn_position", BN_POSITIONS)
def test_projection_is_linear_and_followed_by_batch_norm(
    bn_position: str, small_models: dict[str, keras.Model]
) -> None:
    model = small_models[bn_position]
    consumers = _consumers(model)

    projections = [layer for layer in model.layers if layer.name.endswith("project")]
    assert len(projections) == NUM_PROJECTIONS
    for projection in projections:
        assert projection.activation is keras.activations.linear
        (batch_norm,) = consumers[projection.name]
        assert isinstance(batch_norm, layers.BatchNormalization), projection.name
        # The linear bottleneck goes on to a residual add or the next block's convolutions.
        for follower in consumers[batch_norm.name]:
            assert not isinstance(follower, layers.ReLU), projection.name


@pytest.mark.parametrize("bn_position", BN_POSITIONS)
def test_convolutions_have_no_bias_or_activation(
    bn_position: str, small_models: dict[str, keras.Model]
) -> None:
    model = small_models[bn_position]

    convs = [
        layer
        for layer in model.layers
        if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D))
    ]
    assert len(convs) == 52  # stem, last, 16 expand, 17 depthwise, 17 projection
    for conv in convs:
        assert not conv.use_bias, conv.name
        assert conv.activation is keras.activations.linear, conv.name


@pytest.mark.parametrize("bn_position", BN_POSITIONS)
def test_residual_adds_match_keras_applications(
    bn_position: str, small_models: dict[str, keras.Model], small_reference: keras.Model
) -> None:
    reference = small_reference
    model = small_models[bn_position]

    def add_names(network: keras.Model) -> list[str]:
        return [layer.name for layer in network.layers if isinstance(layer, layers.Add)]

    assert add_names(model) == add_names(reference)
    assert len(add_names(model)) == NUM_RESIDUAL_ADDS


@pytest.mark.parametrize("bn_position", BN_POSITIONS)
def test_outputs_logits_from_global_pool_and_dense(
    bn_position: str, small_models: dict[str, keras.Model]
) -> None:
    model = small_models[bn_position]

    head = model.layers[-1]
    assert isinstance(head, layers.Dense)
    assert head.activation is keras.activations.linear
    assert isinstance(model.layers[-2], layers.GlobalAveragePooling2D)
    assert not any(isinstance(layer, layers.Dropout) for layer in model.layers)
    assert not any(isinstance(layer, layers.Rescaling) for layer in model.layers)
    images = np.zeros((3, *SMALL_SHAPE), dtype="float32")
    assert tuple(model(images, training=False).shape) == (3, 10)


def test_dropout_sits_between_pool_and_dense() -> None:
    model = build_mobilenet_v2(SMALL_SHAPE, 10, alpha=0.35, dropout_rate=0.2, name="custom")

    pool, dropout, dense = model.layers[-3:]
    assert isinstance(pool, layers.GlobalAveragePooling2D)
    assert isinstance(dropout, layers.Dropout) and dropout.rate == 0.2
    assert isinstance(dense, layers.Dense)
    assert model.name == "custom"


def test_batch_norm_settings_reach_every_batch_norm() -> None:
    model = build_mobilenet_v2(SMALL_SHAPE, 10, alpha=0.35, bn_momentum=0.95, bn_epsilon=1e-5)

    batch_norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    assert len(batch_norms) == NUM_RELUS + NUM_PROJECTIONS
    assert {(bn.momentum, bn.epsilon) for bn in batch_norms} == {(0.95, 1e-5)}


def test_default_momentum_is_fast_enough_for_short_trials(
    small_models: dict[str, keras.Model],
) -> None:
    model = small_models["before"]

    momenta = {
        layer.momentum for layer in model.layers if isinstance(layer, layers.BatchNormalization)
    }
    assert momenta == {0.9}


def test_default_name_says_width_size_and_placement(
    small_models: dict[str, keras.Model],
) -> None:
    assert small_models["before"].name == "mobilenetv2_0.35_32_bn_before"
    assert small_models["after"].name == "mobilenetv2_0.35_32_bn_after"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"bn_position": "middle"},
            "`bn_position` must be one of ('before', 'after'), but got 'middle'.",
        ),
        (
            {"input_shape": (31, 32, 3)},
            "`input_shape` height and width must be at least 32, but got (31, 32, 3).",
        ),
        (
            {"input_shape": (32, 31, 1)},
            "`input_shape` height and width must be at least 32, but got (32, 31, 1).",
        ),
        (
            {"input_shape": (32, 32)},
            "`input_shape` must be (height, width, channels), but got (32, 32).",
        ),
        ({"input_shape": (32, 32, 0)}, "`input_shape` channels must be positive, but got 0."),
        (
            {"input_shape": (28, 28, 2), "preprocessing": Preprocessing(32)},
            "`input_shape` must be the stored images' (height, width, 1 or 3) with "
            "`preprocessing`, but got (28, 28, 2).",
        ),
        (
            {"input_shape": (28, 28, 1), "preprocessing": Preprocessing(31)},
            "`input_shape` height and width must be at least 32, but got (31, 31, 3).",
        ),
        ({"num_classes": 1}, "`num_classes` must be at least 2, but got 1."),
        ({"alpha": 0.0}, "`alpha` must be positive, but got 0.0."),
        ({"bn_momentum": 1.0}, "`bn_momentum` must be in (0, 1), but got 1.0."),
        ({"bn_momentum": 0.0}, "`bn_momentum` must be in (0, 1), but got 0.0."),
        ({"bn_epsilon": 0.0}, "`bn_epsilon` must be positive, but got 0.0."),
        ({"dropout_rate": 1.0}, "`dropout_rate` must be in [0, 1), but got 1.0."),
        ({"dropout_rate": -0.1}, "`dropout_rate` must be in [0, 1), but got -0.1."),
        ({"activation": "gelu"},
         "`activation` must be one of ('relu6', 'hard_swish'), but got 'gelu'."),
    ],
)
def test_rejects_invalid_arguments(kwargs: dict, message: str) -> None:
    arguments = {"input_shape": SMALL_SHAPE, "num_classes": 10, **kwargs}

    with pytest.raises(ValueError, match=re.escape(message)):
        build_mobilenet_v2(**arguments)


@pytest.mark.usefixtures("release_keras_state")
def test_hard_swish_replaces_every_relu6_and_keeps_names_and_weights(
    small_models: dict[str, keras.Model],
) -> None:
    relu6 = small_models["before"]
    swish = build_mobilenet_v2(SMALL_SHAPE, 10, alpha=0.35, activation="hard_swish")

    activations = [layer for layer in swish.layers if isinstance(layer, layers.Activation)]
    assert len(activations) == NUM_RELUS
    assert not [layer for layer in swish.layers if isinstance(layer, layers.ReLU)]
    assert {layer.name for layer in activations} == {
        layer.name for layer in relu6.layers if isinstance(layer, layers.ReLU)}
    for activation in activations:  # BN before the activation, as with ReLU6
        (batch_norm,) = _producers(activation)
        assert isinstance(batch_norm, layers.BatchNormalization), activation.name
    assert _weight_shapes(swish) == _weight_shapes(relu6)
    assert swish.name.endswith("_bn_before_hard_swish") and relu6.name.endswith("_bn_before")
    inputs = np.linspace(-4, 4, 9, dtype="float32")
    assert np.allclose(activations[0](inputs), inputs * np.clip(inputs + 3, 0, 6) / 6)
