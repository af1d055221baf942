"""TensorFlow Datasets image-classification sets as in-memory uint8 arrays, for `study.data`.

Kept apart from `study.data` because it imports TensorFlow, which Fashion-MNIST runs do not
need; `study.data.load_splits("tfds:<name>")` is the public way in.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from study.errors import DataError

_CARVED_TEST_FRACTION = 0.1
# Fixed, unlike the study seed, so a carved test split is the same for every trial and seed.
_CARVED_TEST_SEED = 20180113
_LOAD_BATCH = 1024  # images per step when copying out of tf.data; large steps are faster


def load_arrays(
    name: str, *, data_dir: str | None = None, image_size: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Loads a TFDS set's train and test splits as arrays, downloading it if TFDS must.

    Args:
        name: TFDS name, e.g. ``"cifar10"`` or ``"tf_flowers"``.
        data_dir: TFDS data folder (default: TFDS's own, usually ~/tensorflow_datasets).
        image_size: Side length to resize to; required when the images vary in size.

    Returns:
        (train_images, train_labels, test_images, test_labels, num_classes): uint8 images
        (N, H, W, C) and int32 labels. Sets without a "test" split get one carved from "train".
    """
    dataset = f"tfds:{name}"
    try:
        train, info = tfds.load(
            name, split="train", data_dir=data_dir, as_supervised=True, with_info=True
        )
    except tfds.core.registered.DatasetNotFoundError:
        raise DataError(
            f"`dataset` must name a TensorFlow Datasets set after 'tfds:', but got {dataset!r}."
        ) from None
    image_key, label_key = info.supervised_keys
    num_classes = getattr(info.features[label_key], "num_classes", None)
    if num_classes is None:
        raise DataError(
            f"`dataset` must be an image-classification set with class labels, but got "
            f"{dataset!r}."
        )
    height, width = info.features[image_key].shape[:2]
    if image_size is None and (height is None or width is None):
        raise DataError(
            f"`image_size` must be given for {dataset}, whose images vary in size, but got None."
        )
    if image_size == height == width:
        image_size = None
    train_images, train_labels = _to_arrays(train, image_size)
    if "test" in info.splits:
        test = tfds.load(name, split="test", data_dir=data_dir, as_supervised=True)
        test_images, test_labels = _to_arrays(test, image_size)
    else:
        # No official test split (e.g. tf_flowers): hold out a fixed part of "train" before
        # the validation split is carved from the rest, so the test set never sees training.
        order = np.random.default_rng(_CARVED_TEST_SEED).permutation(len(train_images))
        held_out = max(1, int(len(order) * _CARVED_TEST_FRACTION))
        test_index, train_index = np.sort(order[:held_out]), np.sort(order[held_out:])
        test_images, test_labels = train_images[test_index], train_labels[test_index]
        train_images, train_labels = train_images[train_index], train_labels[train_index]
    return train_images, train_labels, test_images, test_labels, int(num_classes)


def _to_arrays(dataset: tf.data.Dataset, image_size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Copies a supervised (image, label) dataset into uint8 images and int32 labels."""
    if image_size is not None:
        # Antialiasing matters here: photos shrink from hundreds of pixels to a few dozen.
        # Squashing to a square keeps the whole object, which a centre crop could cut off.
        def resize(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            resized = tf.image.resize(image, (image_size, image_size), antialias=True)
            return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8), label

        dataset = dataset.map(resize, num_parallel_calls=tf.data.AUTOTUNE)
    batches = list(tfds.as_numpy(dataset.batch(_LOAD_BATCH)))
    images = np.concatenate([batch_images for batch_images, _ in batches])
    labels = np.concatenate([batch_labels for _, batch_labels in batches])
    return images.astype(np.uint8, copy=False), labels.astype(np.int32)
