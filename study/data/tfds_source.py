"""TensorFlow Datasets image-classification sets as in-memory uint8 arrays.

Kept apart from `study.data.splits` because it imports TensorFlow, which Fashion-MNIST runs do not
need; `study.data.splits.load_splits("tfds:<name>")` is the public way in.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from study.data.holdout import carve_test_split
from study.data.memory import check_fits_in_memory
from study.errors import DataError

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
    except ValueError as error:  # TFDS cannot parse the name at all
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(
            f"`dataset` must be 'tfds:' and a TensorFlow Datasets name such as "
            f"'cifar10' or 'mnist:3.0.1', but got {dataset!r} ({first_line})."
        ) from None
    except (OSError, tfds.download.DownloadError) as error:  # requests' errors are OSErrors
        raise _not_downloaded(name, data_dir, error) from None
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
    images = sum(info.splits[split].num_examples for split in ("train", "test")
                 if split in info.splits)
    check_fits_in_memory(f"the images of {dataset}, as uint8", images, image_size or height,
                         bytes_per_pixel=info.features[image_key].shape[2] or 3)
    if image_size == height == width:
        image_size = None
    train_images, train_labels = _to_arrays(train, image_size)
    if "test" in info.splits:
        test = tfds.load(name, split="test", data_dir=data_dir, as_supervised=True)
        test_images, test_labels = _to_arrays(test, image_size)
    else:
        # No official test split (e.g. tf_flowers): a fixed part of "train" is held out.
        train_images, train_labels, test_images, test_labels = carve_test_split(
            train_images, train_labels)
    return train_images, train_labels, test_images, test_labels, int(num_classes)


def _not_downloaded(name: str, data_dir: str | None, error: Exception) -> DataError:
    """The error for a set that is not in `data_dir` and could not be fetched now."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    folder = "" if data_dir is None else f", data_dir={data_dir!r}"
    return DataError(
        f"`dataset` tfds:{name} must be downloaded first, but it is not in the TFDS data folder "
        f"and fetching it failed ({reason}); where the network is reachable, run `python -c "
        f"\"import tensorflow_datasets as tfds; tfds.builder('{name}'{folder})"
        f".download_and_prepare()\"`, or pass --data-dir a TFDS folder that holds it."
    )


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
