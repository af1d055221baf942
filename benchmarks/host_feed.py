"""The host-side feed the study used before resizing moved into the model: benchmarks only.

`prepare_arrays` (numpy) and `host_dataset` (tf.data) resize, augment and scale the images on
the host and feed float32 batches, as the study did before `study.model.preprocessing` took
that work to the device. The benchmarks compare the two feeds (benchmarks/README.md); the
study itself feeds `study.data.pipeline.make_dataset`'s uint8 batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import _common  # noqa: F401  (puts the repository root on sys.path)
import numpy as np

from study.data.memory import check_fits_in_memory
from study.errors import DataError
from study.model.preprocessing import MIN_IMAGE_SIZE

if TYPE_CHECKING:
    import tensorflow as tf


def _check_image_size(image_size: int) -> None:
    if image_size < MIN_IMAGE_SIZE:
        raise DataError(f"`image_size` must be at least {MIN_IMAGE_SIZE}, but got {image_size}.")


def _check_images(images: np.ndarray, labels: np.ndarray | None = None) -> None:
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DataError(
            f"`images` must have shape (N, H, W, 1 or 3), but got {tuple(images.shape)}."
        )
    if labels is not None and len(labels) != len(images):
        raise DataError(
            f"`labels` must have one entry per image ({len(images)}), but got {len(labels)}."
        )


def _resize_bilinear(images: np.ndarray, size: int, chunk: int = 1024) -> np.ndarray:
    """Bilinear resize in numpy, float32, computed like TensorFlow's `tf.image.resize`.

    Uses half-pixel centres and the same float32 arithmetic as TensorFlow's ResizeBilinear
    kernel, so the numpy and tf.data pipelines agree to float rounding.
    """
    height, width = images.shape[1:3]
    if (height, width) == (size, size):
        return images.astype(np.float32)
    top, bottom, y_lerp = _bilinear_taps(height, size)
    left, right, x_lerp = _bilinear_taps(width, size)
    x_lerp, y_lerp = x_lerp[None, None, :, None], y_lerp[None, :, None, None]
    out = np.empty((len(images), size, size, images.shape[3]), np.float32)
    for start in range(0, len(images), chunk):  # chunks bound the temporaries' memory
        block = images[start : start + chunk].astype(np.float32)
        upper, lower = block[:, top], block[:, bottom]
        upper_left, lower_left = upper[:, :, left], lower[:, :, left]
        upper = upper_left + (upper[:, :, right] - upper_left) * x_lerp
        lower = lower_left + (lower[:, :, right] - lower_left) * x_lerp
        out[start : start + chunk] = upper + (lower - upper) * y_lerp
    return out


def _bilinear_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    scale = np.float32(in_size) / np.float32(out_size)
    source = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    low = np.maximum(np.floor(source), 0).astype(np.intp)
    high = np.minimum(np.ceil(source), in_size - 1).astype(np.intp)
    return low, high, (source - np.floor(source)).astype(np.float32)


def prepare_arrays(images: np.ndarray, *, image_size: int) -> np.ndarray:
    """Turns uint8 images into float model inputs on the host, with numpy only.

    The reference for the model's own preprocessing (`study.model.preprocessing`), and the "old
    feed" of benchmarks/gpu_throughput.py; the study itself no longer calls it.

    Same values as an unaugmented `make_dataset` batch. The result is float32 and large
    (60,000 Fashion-MNIST images at 32x32 take 737 MB), so pass subsets where you can.

    Args:
        images: uint8 array (N, H, W, C) with 1 or 3 channels.
        image_size: Output side length, at least 32.

    Returns:
        float32 array (N, image_size, image_size, 3) with values in [-1, 1].
    """
    _check_image_size(image_size)
    _check_images(images)
    check_fits_in_memory("the images as float32 model inputs", len(images), image_size,
                         bytes_per_pixel=3 * 4)
    pixels = _resize_bilinear(images, image_size)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return pixels / np.float32(127.5) - np.float32(1.0)




def host_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    image_size: int | None,
    batch_size: int,
    training: bool,
    augment: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Builds a batched tf.data pipeline of model inputs from in-memory uint8 images.

    With `image_size=None` the batches are the stored uint8 images, for a model that resizes,
    augments and scales them itself (`study.model.preprocessing`); the rest describes the host-side
    preprocessing of the other case.

    Per batch: bilinear resize to `image_size` (resizing keeps the object's share of the frame
    the same at every size, where zero-padding 28 to 64 would not), optional augmentation,
    grayscale copied to 3 channels, and scaling to [-1, 1] as MobileNetV2's `preprocess_input`
    does. Work is done on whole batches because per-image maps cost more in tf.data overhead
    than the arithmetic itself.

    Args:
        images: uint8 array (N, H, W, C) with 1 or 3 channels.
        labels: Integer labels (N,).
        image_size: Output side length, at least 32; None keeps the stored uint8 images.
        batch_size: Images per batch; the last batch may be smaller.
        training: Shuffle the whole set, differently each epoch but fixed by `seed`.
        augment: Random horizontal flips and shifts of up to 1/8 of the side, for training.
        seed: Seeds the shuffle and the augmentation.

    Returns:
        A dataset of (float32 (B, image_size, image_size, 3), labels (B,)) batches, or of
        (uint8 (B, H, W, C), labels (B,)) batches with `image_size=None`.
    """
    import tensorflow as tf  # lazily: `load_splits` must work where TensorFlow is absent

    if image_size is not None:
        _check_image_size(image_size)
    elif augment:
        raise DataError("`augment` must be done by the model when `image_size` is None "
                        "(the batches stay uint8 as stored), but got augment=True.")
    if batch_size <= 0:
        raise DataError(f"`batch_size` must be positive, but got {batch_size}.")
    _check_images(images, labels)
    if image_size is None:
        stored = tf.data.Dataset.from_tensor_slices((images, labels))
        if training:
            stored = stored.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        return stored.batch(batch_size, drop_remainder=False).prefetch(tf.data.AUTOTUNE)
    needs_resize = images.shape[1:3] != (image_size, image_size)
    is_grayscale = images.shape[-1] == 1

    def preprocess(batch: tf.Tensor, augment_seed: tf.Tensor | None = None) -> tf.Tensor:
        pixels = tf.cast(batch, tf.float32)
        if needs_resize:
            pixels = tf.image.resize(pixels, (image_size, image_size), method="bilinear")
        if augment_seed is not None:
            pixels = _augment(pixels, image_size, augment_seed)
        if is_grayscale:
            pixels = tf.image.grayscale_to_rgb(pixels)
        return pixels / 127.5 - 1.0

    # No .cache(): the uint8 arrays are already in memory, so it would only copy them (timed:
    # no gain at about 60,000 images/s, far above what training consumes).
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if training:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=False)
    if training and augment:
        # One seeded random number per batch, new each epoch: augmentation stays reproducible
        # yet differs between epochs, without stateful generators inside parallel maps.
        randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip(dataset, randoms).map(
            lambda batch, random: ((preprocess(batch[0], random), batch[1])),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        dataset = dataset.map(
            lambda batch, batch_labels: (preprocess(batch), batch_labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _augment(pixels: tf.Tensor, image_size: int, random: tf.Tensor) -> tf.Tensor:
    """Flips and shifts each image of a batch independently, seeded by one random number."""
    import tensorflow as tf

    pixels = tf.image.stateless_random_flip_left_right(pixels, seed=tf.stack([random, 0]))
    # Pad-and-crop shift, the usual CIFAR augmentation: 4 pixels at 32, scaled with the size.
    # Zero padding is black, the Fashion-MNIST background.
    pad = image_size // 8
    padded = tf.pad(pixels, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    offsets = tf.random.stateless_uniform(
        tf.stack([tf.shape(pixels)[0], 2]),
        seed=tf.stack([random, 1]),
        maxval=2 * pad + 1,
        dtype=tf.int32,
    )
    window = tf.range(image_size)[tf.newaxis, :]
    rows = tf.gather(padded, offsets[:, :1] + window, axis=1, batch_dims=1)
    return tf.gather(rows, offsets[:, 1:] + window, axis=2, batch_dims=1)
