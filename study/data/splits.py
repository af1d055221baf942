"""Where data enters: a dataset's fixed train, validation and test splits as uint8 arrays.

Nothing here knows about BatchNorm or the model. `load_splits` returns uint8 numpy arrays at
their stored size and needs no TensorFlow for Fashion-MNIST, so backends without TensorFlow
train from those arrays; the model resizes, augments and scales them on the device
(`study.model.preprocessing`), and `study.data.pipeline` batches them for tf.data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study.data import fashion_mnist
from study.errors import DataError
from study.model.preprocessing import MIN_IMAGE_SIZE

__all__ = ["DEFAULT_DATASET", "FOLDER_PREFIX", "TFDS_PREFIX", "Splits", "load_splits"]

DEFAULT_DATASET = "fashion_mnist"
TFDS_PREFIX = "tfds:"
FOLDER_PREFIX = "folder:"
_DEFAULT_VAL_FRACTION = 0.1


@dataclass(frozen=True)
class Splits:
    """Train, validation and test arrays of one dataset.

    Images are uint8 (N, H, W, C); labels are int32 (N,). The test arrays are the dataset's
    own test split, untouched by validation carving and subsampling, and read-only.
    """

    name: str
    num_classes: int
    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_splits(
    dataset: str = DEFAULT_DATASET,
    *,
    data_dir: str | Path | None = None,
    train_size: int | None = None,
    val_size: int | None = None,
    seed: int = 0,
    image_size: int | None = None,
) -> Splits:
    """Loads a dataset and carves a seeded validation split from its training images.

    Args:
        dataset: ``"fashion_mnist"`` (read offline from IDX files), ``"tfds:<name>"`` for a
            TensorFlow Datasets image-classification set, e.g. ``"tfds:cifar10"``, or
            ``"folder:<path>"`` for a folder of class subfolders of JPEG/PNG images
            (`study.data.folder_source`).
        data_dir: Folder with the Fashion-MNIST IDX files (default: the environment variable
            ``BNSTUDY_FASHION_MNIST_DIR``, then the Debian package's folder), or the TFDS
            data folder.
        train_size: Training images to keep (default: all not used for validation).
        val_size: Validation images (default: 10% of the training images).
        seed: Chooses the validation/training partition; the test split never depends on it.
        image_size: Side length to resize every image to at load time, stored as uint8:
            required for folders, and for TFDS sets whose images vary in size. None for
            Fashion-MNIST, which the model resizes itself.

    Returns:
        The splits; same arguments give identical arrays.
    """
    if image_size is not None:
        _check_image_size(image_size)
    if dataset == DEFAULT_DATASET:
        if image_size is not None:
            raise DataError(f"`image_size` must be None for {dataset}, whose 28x28 images the "
                            f"model resizes itself, but got {image_size}.")
        loaded = fashion_mnist.load_arrays(data_dir)
        train_images, train_labels, test_images, test_labels = loaded
        num_classes = fashion_mnist.NUM_CLASSES
    elif dataset.startswith(TFDS_PREFIX) and len(dataset) > len(TFDS_PREFIX):
        from study.data import tfds_source  # imports TensorFlow, which only this branch needs

        loaded = tfds_source.load_arrays(
            dataset[len(TFDS_PREFIX) :],
            data_dir=None if data_dir is None else str(data_dir),
            image_size=image_size,
        )
        train_images, train_labels, test_images, test_labels, num_classes = loaded
    elif dataset.startswith(FOLDER_PREFIX) and len(dataset) > len(FOLDER_PREFIX):
        from study.data import folder_source  # imports Pillow, which only this branch needs

        if image_size is None:
            raise DataError(f"`image_size` must be given for {dataset}, whose images may "
                            "differ in size, but got None.")
        loaded = folder_source.load_arrays(dataset[len(FOLDER_PREFIX):], image_size=image_size)
        train_images, train_labels, test_images, test_labels, num_classes = loaded
    else:
        raise DataError(
            f"`dataset` must be 'fashion_mnist', 'tfds:<name>' (e.g. 'tfds:cifar10') or "
            f"'folder:<path>' (one subfolder of images per class), but got {dataset!r}."
        )
    train_index, val_index = _carve(len(train_images), dataset, train_size, val_size, seed)
    test_images.flags.writeable = False
    test_labels.flags.writeable = False
    return Splits(
        name=dataset,
        num_classes=num_classes,
        train_images=train_images[train_index],
        train_labels=train_labels[train_index],
        val_images=train_images[val_index],
        val_labels=train_labels[val_index],
        test_images=test_images,
        test_labels=test_labels,
    )


def _carve(
    available: int, dataset: str, train_size: int | None, val_size: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Returns disjoint (train, validation) indices from one seeded permutation."""
    for argument, value in (("train_size", train_size), ("val_size", val_size)):
        if value is not None and value <= 0:
            raise DataError(f"`{argument}` must be positive, but got {value}.")
    if val_size is None:
        val_size = max(1, int(available * _DEFAULT_VAL_FRACTION))
    if train_size is None:
        if val_size >= available:
            raise DataError(
                f"`val_size` must be below the {available} training images of {dataset}, "
                f"but got {val_size}."
            )
        train_size = available - val_size
    if train_size + val_size > available:
        raise DataError(
            f"`train_size` + `val_size` must not exceed the {available} training images of "
            f"{dataset}, but got {train_size} + {val_size}."
        )
    order = np.random.default_rng(seed).permutation(available)
    # Validation comes from the front and training from the back, so changing one size never
    # changes the other split, and smaller subsets of either are nested in larger ones.
    return order[available - train_size :], order[:val_size]


def _check_image_size(image_size: int) -> None:
    if image_size < MIN_IMAGE_SIZE:
        raise DataError(f"`image_size` must be at least {MIN_IMAGE_SIZE}, but got {image_size}.")
