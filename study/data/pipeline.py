"""The tf.data pipeline of the TensorFlow backend: stored uint8 images, shuffled and batched.

The batches stay uint8 at the images' stored size: the model resizes, augments and scales them
in its first layer (`study.model.preprocessing`). Backends without TensorFlow train from the
arrays of `study.data.splits` directly, shuffled by Keras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from study.errors import DataError

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["make_dataset"]


def make_dataset(images: np.ndarray, labels: np.ndarray, *, batch_size: int, training: bool,
                 seed: int = 0) -> tf.data.Dataset:
    """Builds a batched tf.data pipeline of the stored uint8 images and their labels.

    No `.cache()`: the uint8 arrays are already in memory, so it would only copy them (timed:
    no gain at about 60,000 images/s, far above what training consumes).

    Args:
        images: uint8 array (N, H, W, C) with 1 or 3 channels.
        labels: Integer labels (N,).
        batch_size: Images per batch; the last batch may be smaller.
        training: Shuffle the whole set, differently each epoch but fixed by `seed`.
        seed: Seeds the shuffle.

    Returns:
        A dataset of (uint8 (B, H, W, C), labels (B,)) batches.

    Raises:
        DataError: for a batch size below 1, or images and labels that do not match.
    """
    import tensorflow as tf  # lazily: `load_splits` must work where TensorFlow is absent

    if batch_size <= 0:
        raise DataError(f"`batch_size` must be positive, but got {batch_size}.")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DataError(
            f"`images` must have shape (N, H, W, 1 or 3), but got {tuple(images.shape)}.")
    if len(labels) != len(images):
        raise DataError(
            f"`labels` must have one entry per image ({len(images)}), but got {len(labels)}.")
    stored = tf.data.Dataset.from_tensor_slices((images, labels))
    if training:
        stored = stored.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return stored.batch(batch_size, drop_remainder=False).prefetch(tf.data.AUTOTUNE)
