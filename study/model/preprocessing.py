"""Stored uint8 images to network inputs inside the model, so that data stays small on the host.

Images cross to the device as uint8 at their stored size (784 bytes for a Fashion-MNIST image,
where the float32 224x224x3 input it becomes takes 602 KB); the model's first layer resizes
them to the trial's image size, augments them while training, copies grayscale to 3 channels
and scales to [-1, 1], inside the compiled step on every backend. The arithmetic is the one of
TensorFlow's `tf.image.resize`: bilinear resize with half-pixel centres and no antialiasing,
then `x / 127.5 - 1`, in float32 whatever the model's dtype policy.

The layer is built from `keras.ops` only. Keras' own preprocessing layers (Resizing,
Rescaling, RandomFlip) are `DataLayer`s that reach for TensorFlow when it is blocked, which a
JAX-only host must not depend on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

__all__ = ["LAYER_NAME", "MIN_IMAGE_SIZE", "Preprocessing"]

LAYER_NAME = "preprocessing"
# The smallest side the network takes: MobileNetV2 downsamples 32x, and
# keras.applications.MobileNetV2 rejects smaller inputs.
MIN_IMAGE_SIZE = 32


@dataclass(frozen=True)
class Preprocessing:
    """How the model turns stored uint8 images into its network's input.

    Attributes:
        image_size: Side length the images are resized to (the trial's image size).
        augment: Random horizontal flips and shifts of up to 1/8 of the side, while training
            only, as `study.data.splits.make_dataset(augment=True)` does on the host.
    """

    image_size: int
    augment: bool = False

    @property
    def network_shape(self) -> tuple[int, int, int]:
        """The shape the network after the preprocessing sees: (size, size, 3)."""
        return (self.image_size, self.image_size, 3)

    def __call__(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        """Applies the preprocessing layer to the model's uint8 `keras.Input`."""
        return _layer_class()(self.image_size, augment=self.augment, name=LAYER_NAME)(inputs)


_LAYER_CLASS: type | None = None


def _layer_class() -> type:
    """The Keras layer class, defined on first use so that importing this module is light."""
    global _LAYER_CLASS
    if _LAYER_CLASS is None:
        _LAYER_CLASS = _define_layer()
    return _LAYER_CLASS


def _define_layer() -> type:
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="bnstudy")
    class ImagePreprocessing(keras.layers.Layer):
        """uint8 (B, H, W, 1 or 3) -> float32 (B, size, size, 3) in [-1, 1]; no weights."""

        def __init__(self, image_size: int, *, augment: bool = False, seed: int | None = None,
                     **kwargs: object) -> None:
            # float32 under every policy: a mixed policy's first convolution casts the result,
            # as it cast the host's float32 inputs before.
            kwargs["dtype"] = "float32"
            super().__init__(**kwargs)
            self.image_size = image_size
            self.augment = augment
            self.seed = seed
            # The generator's state is a variable of the model: a reused compiled model takes
            # the fresh model's state with its weights
            # (`study.tuning.compiled_models.reinitialize`).
            self.seed_generator = keras.random.SeedGenerator(seed) if augment else None

        def call(self, images: object, training: bool | None = None) -> object:
            pixels = ops.cast(images, "float32")
            if tuple(pixels.shape[1:3]) != (self.image_size, self.image_size):
                pixels = ops.image.resize(pixels, (self.image_size, self.image_size),
                                          interpolation="bilinear", antialias=False)
            if self.augment and training:
                pixels = self._flip_and_shift(pixels)
            if pixels.shape[-1] == 1:
                pixels = ops.repeat(pixels, 3, axis=-1)
            return pixels / 127.5 - 1.0

        def _flip_and_shift(self, pixels: object) -> object:
            """Flips half the images; shifts each by whole pixels, black (0) filling in."""
            batch = ops.shape(pixels)[0]
            flip = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator) < 0.5
            pixels = ops.where(flip, ops.flip(pixels, axis=2), pixels)
            # Up to 1/8 of the side, as the usual CIFAR pad-and-crop (4 pixels at 32).
            pad = self.image_size // 8
            offsets = keras.random.randint((batch, 2), -pad, pad + 1,
                                           seed=self.seed_generator)
            offsets = ops.cast(offsets, "float32")
            ones, zeros = ops.ones((batch, 1)), ops.zeros((batch, 1))
            # Output pixel (x, y) reads input (x + dx, y + dy): a pure whole-pixel translation,
            # exact with nearest interpolation.
            transform = ops.concatenate([ones, zeros, offsets[:, :1], zeros, ones,
                                         offsets[:, 1:], zeros, zeros], axis=1)
            return ops.image.affine_transform(pixels, transform, interpolation="nearest",
                                              fill_mode="constant", fill_value=0)

        def compute_output_shape(self, input_shape: tuple[int | None, ...]
                                 ) -> tuple[int | None, ...]:
            return (input_shape[0], self.image_size, self.image_size, 3)

        def get_config(self) -> dict[str, object]:
            return {**super().get_config(), "image_size": self.image_size,
                    "augment": self.augment, "seed": self.seed}

    return ImagePreprocessing
