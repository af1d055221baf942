"""MobileNetV2 with a switch for where BatchNormalization sits relative to ReLU6.

The architecture follows Sandler et al. 2018 and `keras.applications.MobileNetV2` layer for
layer (same layer kinds, order with `bn_position="before"`, names and weight shapes), so weights
can be copied between the two and parameter counts match exactly. It differs on purpose only
where the study needs it: it returns logits, and BN momentum, epsilon and placement are
arguments. Like keras.applications it has no preprocessing layers unless asked for: given a
`study.model.preprocessing.Preprocessing`, it takes stored uint8 images and resizes and scales them
as its first layer, on the device (that layer has no weights, so parameter counts stay the
same).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
from keras import layers

from study.model.preprocessing import MIN_IMAGE_SIZE, Preprocessing
from study.storage.contract import PLACEMENTS

BN_POSITIONS = PLACEMENTS  # "before" or "after" the activation, as the study stores them
# The activation after each non-linear convolution: ReLU6 (the paper's), or hard-swish
# (x * ReLU6(x + 3) / 6, MobileNetV3's), the second question `search_spaces.activation` asks.
ACTIVATIONS = ("relu6", "hard_swish")

# Bottleneck settings from the paper, table 2: expansion t, channels c, repeats n, stride s.
_BOTTLENECKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
_STEM_CHANNELS = 32
_LAST_CONV_CHANNELS = 1280


def build_mobilenet_v2(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    alpha: float = 1.0,
    bn_position: str = "before",
    activation: str = "relu6",
    # Keras' 0.999 averages over ~1,000 steps: after 5 epochs of 10,000 images (~400 steps)
    # the moving statistics were still near their initial values and validation accuracy sat at
    # chance, where 0.9 reached 0.81. 0.9 averages over ~10 steps, so even a smoke trial of a
    # few batches evaluates with usable statistics; 0.99 (~100 steps) would still be mostly
    # initial values there. Long runs lose little: 10 batches of 128 images is a stable estimate
    # (0.9 is also PyTorch's default, momentum=0.1 in its convention).
    bn_momentum: float = 0.9,
    bn_epsilon: float = 1e-3,
    dropout_rate: float = 0.0,
    name: str | None = None,
    preprocessing: Preprocessing | None = None,
) -> keras.Model:
    """Builds a MobileNetV2 classifier whose BN placement is a hyperparameter.

    Args:
        input_shape: Image shape as (height, width, channels), channels-last; height and width
            at least `MIN_IMAGE_SIZE`. With `preprocessing`, the stored uint8 images' shape
            instead (any size, 1 or 3 channels).
        num_classes: Number of classes, at least 2.
        alpha: Width multiplier; channel counts are scaled by it and rounded to multiples of 8.
            The last 1x1 convolution keeps 1280 channels unless `alpha > 1`.
        bn_position: "before" for Conv -> BN -> ReLU6 (the published model), "after" for
            Conv -> ReLU6 -> BN. Applies to the stem, expand, depthwise and last convolutions;
            the linear projection is Conv -> BN in both.
        activation: One of ACTIVATIONS: "relu6" (the paper's) or "hard_swish". Layer names
            stay the same for both ("Conv1_relu", ...).
        bn_momentum: Momentum of the BN moving mean and variance, in (0, 1).
        bn_epsilon: Added to the BN variance for numerical stability, positive.
        dropout_rate: Dropout before the classifier, in [0, 1); 0 adds no Dropout layer.
        name: Model name; derived from `alpha`, image height and `bn_position` when None.
        preprocessing: Resize, augment and scale uint8 inputs in the model's first layer
            (`study.model.preprocessing`); None takes float inputs already in [-1, 1].

    Returns:
        An uncompiled model mapping images to unnormalized logits of shape
        (batch, num_classes).

    Raises:
        ValueError: If an argument is outside the range given above.
    """
    if len(input_shape) != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, channels), but got {tuple(input_shape)}."
        )
    stored_shape = tuple(input_shape)
    if preprocessing is not None:
        if min(stored_shape) < 1 or stored_shape[-1] not in (1, 3):
            raise ValueError(f"`input_shape` must be the stored images' (height, width, 1 or 3) "
                             f"with `preprocessing`, but got {stored_shape}.")
        input_shape = preprocessing.network_shape
    height, width, channels = input_shape
    if min(height, width) < MIN_IMAGE_SIZE:
        raise ValueError(
            f"`input_shape` height and width must be at least {MIN_IMAGE_SIZE}, "
            f"but got {tuple(input_shape)}."
        )
    if channels < 1:
        raise ValueError(f"`input_shape` channels must be positive, but got {channels}.")
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2, but got {num_classes}.")
    if alpha <= 0:
        raise ValueError(f"`alpha` must be positive, but got {alpha}.")
    if bn_position not in BN_POSITIONS:
        raise ValueError(f"`bn_position` must be one of {BN_POSITIONS}, but got {bn_position!r}.")
    if activation not in ACTIVATIONS:
        raise ValueError(f"`activation` must be one of {ACTIVATIONS}, but got {activation!r}.")
    if not 0 < bn_momentum < 1:
        raise ValueError(f"`bn_momentum` must be in (0, 1), but got {bn_momentum}.")
    if bn_epsilon <= 0:
        raise ValueError(f"`bn_epsilon` must be positive, but got {bn_epsilon}.")
    if not 0 <= dropout_rate < 1:
        raise ValueError(f"`dropout_rate` must be in [0, 1), but got {dropout_rate}.")

    def batch_norm(layer_name: str) -> layers.BatchNormalization:
        return layers.BatchNormalization(momentum=bn_momentum, epsilon=bn_epsilon, name=layer_name)

    def conv_bn_act(x: keras.KerasTensor, conv: layers.Layer, bn_name: str, act_name: str
                    ) -> keras.KerasTensor:
        """A convolution, then BN and the activation in the order `bn_position` asks for."""
        x = conv(x)
        act = (layers.ReLU(6.0, name=act_name) if activation == "relu6"
               else layers.Activation("hard_swish", name=act_name))
        norm = batch_norm(bn_name)
        return act(norm(x)) if bn_position == "before" else norm(act(x))

    if preprocessing is None:
        inputs = x = keras.Input(shape=(height, width, channels))
    else:
        inputs = keras.Input(shape=stored_shape, dtype="uint8")
        x = preprocessing(inputs)
    # keras.applications (Keras 3) pads the stem with "same", not a ZeroPadding2D layer; we do
    # the same so the layer lists stay identical. For kernel 3, stride 2 on TensorFlow "same"
    # pads exactly as correct_pad would.
    stem = layers.Conv2D(
        _make_divisible(_STEM_CHANNELS * alpha),
        3,
        strides=2,
        padding="same",
        use_bias=False,
        name="Conv1",
    )
    x = conv_bn_act(x, stem, "bn_Conv1", "Conv1_relu")

    block_id = 0
    for expansion, filters, repeats, first_stride in _BOTTLENECKS:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            x = _inverted_res_block(
                x, expansion, stride, alpha, filters, block_id, batch_norm, conv_bn_act
            )
            block_id += 1

    # The paper keeps 1280 channels for narrow models: shrinking them costs accuracy.
    last_channels = _LAST_CONV_CHANNELS
    if alpha > 1.0:
        last_channels = _make_divisible(_LAST_CONV_CHANNELS * alpha)
    last_conv = layers.Conv2D(last_channels, 1, use_bias=False, name="Conv_1")
    x = conv_bn_act(x, last_conv, "Conv_1_bn", "out_relu")

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
    # Logits, no softmax: losses take `from_logits=True`, which is numerically safer. The name
    # matches keras.applications so its weights can be copied by layer name.
    # float32 logits even under a mixed_float16 policy: the softmax in the loss needs the range.
    outputs = layers.Dense(num_classes, name="predictions", dtype="float32")(x)
    if name is None:
        suffix = "" if activation == "relu6" else f"_{activation}"
        name = f"mobilenetv2_{alpha:0.2f}_{height}_bn_{bn_position}{suffix}"
    return keras.Model(inputs, outputs, name=name)


def _inverted_res_block(
    inputs: keras.KerasTensor,
    expansion: int,
    stride: int,
    alpha: float,
    filters: int,
    block_id: int,
    batch_norm: Callable[[str], layers.BatchNormalization],
    conv_bn_act: Callable[[keras.KerasTensor, layers.Layer, str, str], keras.KerasTensor],
) -> keras.KerasTensor:
    """Expand 1x1 -> depthwise 3x3 -> linear project 1x1, plus a shortcut where shapes allow."""
    in_channels = inputs.shape[-1]
    # int() before rounding reproduces keras.applications' channel counts exactly.
    out_channels = _make_divisible(int(filters * alpha))
    # Keras names the first block (the one without expansion) "expanded_conv".
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"

    x = inputs
    if expansion != 1:
        expand = layers.Conv2D(
            expansion * in_channels, 1, padding="same", use_bias=False, name=f"{prefix}expand"
        )
        x = conv_bn_act(x, expand, f"{prefix}expand_BN", f"{prefix}expand_relu")

    if stride == 2:
        # Explicit padding plus a "valid" convolution, as keras.applications does, fixes which
        # border pixels are padded independently of how a backend implements strided "same".
        x = layers.ZeroPadding2D(padding=_correct_pad(x), name=f"{prefix}pad")(x)
    depthwise = layers.DepthwiseConv2D(
        3,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=f"{prefix}depthwise",
    )
    x = conv_bn_act(x, depthwise, f"{prefix}depthwise_BN", f"{prefix}depthwise_relu")

    # Linear bottleneck: a ReLU here would destroy information in the narrow representation
    # (paper, section 3.2), so there is no activation and the BN placement question is moot.
    x = layers.Conv2D(out_channels, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = batch_norm(f"{prefix}project_BN")(x)

    if stride == 1 and in_channels == out_channels:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _correct_pad(x: keras.KerasTensor, kernel_size: int = 3) -> tuple[tuple[int, int], ...]:
    """Zero padding for a strided 'valid' convolution, as keras' `correct_pad` computes it."""
    correct = kernel_size // 2
    # Even sizes get one pixel less at the top/left so the output is exactly half the input.
    adjust = [1 - size % 2 for size in x.shape[1:3]]
    return tuple((correct - adjust_one, correct) for adjust_one in adjust)


def _make_divisible(value: float, divisor: int = 8) -> int:
    """Rounds a channel count to the nearest multiple of `divisor`, losing at most 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded
