"""Image-classification data for the study: fixed splits in memory and fast input pipelines.

Nothing here knows about BatchNorm or the model. `load_splits` returns uint8 numpy arrays and
needs no TensorFlow for Fashion-MNIST, so backends without TensorFlow train from those arrays;
`make_dataset` builds the tf.data pipeline for the TensorFlow backend. The study feeds uint8
images at their stored size either way and the model resizes and scales them on the device
(`study.preprocessing`). The host-side preprocessing that did this before stays here as the
reference those pixels are tested against: `prepare_arrays` (numpy) and `make_dataset` with
an `image_size` (tf.data) give the same pixels: bilinear resize, grayscale copied to 3
channels, values in [-1, 1].
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from study.errors import DataError
from study.memory import check_fits_in_memory

if TYPE_CHECKING:
    import tensorflow as tf

DEFAULT_DATASET = "fashion_mnist"
FASHION_MNIST_DIR_ENV = "BNSTUDY_FASHION_MNIST_DIR"
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
TFDS_PREFIX = "tfds:"
FOLDER_PREFIX = "folder:"
MIN_IMAGE_SIZE = 32  # keras.applications.MobileNetV2 rejects smaller inputs (it downsamples 32x)

_FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
_IDX_MAGIC = {3: 2051, 1: 2049}  # number of dimensions -> magic number of a uint8 IDX file
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
            (`study.folder_source`).
        data_dir: Folder with the Fashion-MNIST IDX files (default: the environment variable
            ``BNSTUDY_FASHION_MNIST_DIR``, then the Debian package's folder), or the TFDS
            data folder.
        train_size: Training images to keep (default: all not used for validation).
        val_size: Validation images (default: 10% of the training images).
        seed: Chooses the validation/training partition; the test split never depends on it.
        image_size: Side length to resize every image to at load time, stored as uint8.
            Required for folders and TFDS sets whose images vary in size; otherwise better
            left None and done in `make_dataset` or `prepare_arrays`, which resize without
            rounding.

    Returns:
        The splits; same arguments give identical arrays.
    """
    if image_size is not None:
        _check_image_size(image_size)
    if dataset == "fashion_mnist":
        train_images, train_labels, test_images, test_labels = _load_fashion_mnist(data_dir)
        num_classes = 10
        if image_size is not None:
            check_fits_in_memory("the training images, resized at load in float32",
                                 len(train_images), image_size, bytes_per_pixel=4)
            train_images = _to_uint8(_resize_bilinear(train_images, image_size))
            test_images = _to_uint8(_resize_bilinear(test_images, image_size))
    elif dataset.startswith(TFDS_PREFIX) and len(dataset) > len(TFDS_PREFIX):
        from study import tfds_source  # imports TensorFlow, which only this branch needs

        loaded = tfds_source.load_arrays(
            dataset[len(TFDS_PREFIX) :],
            data_dir=None if data_dir is None else str(data_dir),
            image_size=image_size,
        )
        train_images, train_labels, test_images, test_labels, num_classes = loaded
    elif dataset.startswith(FOLDER_PREFIX) and len(dataset) > len(FOLDER_PREFIX):
        from study import folder_source  # imports Pillow, which only this branch needs

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


def _load_fashion_mnist(
    data_dir: str | Path | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reads (train_images, train_labels, test_images, test_labels) from the IDX files."""
    if data_dir is not None:
        directory, source = Path(data_dir), "`data_dir`"
    elif os.environ.get(FASHION_MNIST_DIR_ENV):
        directory, source = Path(os.environ[FASHION_MNIST_DIR_ENV]), f"${FASHION_MNIST_DIR_ENV}"
    else:
        directory, source = DEBIAN_FASHION_MNIST_DIR, "the default folder"
    missing = [name for name in _FASHION_MNIST_FILES.values() if not (directory / name).is_file()]
    if missing:
        raise DataError(
            f"Fashion-MNIST must be four IDX .gz files in one folder, but {source} {directory} "
            f"lacks {', '.join(missing)}; run `apt-get install dataset-fashion-mnist`, or set "
            f"{FASHION_MNIST_DIR_ENV} or pass --data-dir to a folder holding them."
        )
    arrays = []
    for key, name in _FASHION_MNIST_FILES.items():
        path = (directory / name).resolve()
        array = _read_idx(str(path), path.stat().st_mtime_ns)
        arrays.append(array[..., np.newaxis] if key.endswith("images") else array)
    train_images, train_labels, test_images, test_labels = arrays
    return train_images, train_labels.astype(np.int32), test_images, test_labels.astype(np.int32)


@functools.lru_cache(maxsize=8)
def _read_idx(path: str, mtime_ns: int) -> np.ndarray:
    """Parses one gzipped uint8 IDX file; cached because every trial of a study reloads it.

    `mtime_ns` is only part of the cache key, so a replaced file is read again. The array is
    read-only because the cache hands the same object to every caller.
    """
    del mtime_ns
    try:
        with gzip.open(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError, zlib.error) as error:  # not gzip, truncated, or damaged
        raise _damaged(path, str(error)) from None
    ndim = raw[3] if len(raw) >= 4 else 0
    if ndim not in _IDX_MAGIC or int.from_bytes(raw[:4], "big") != _IDX_MAGIC[ndim]:
        raise _damaged(path, "no uint8 IDX header")
    shape = tuple(int(size) for size in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    found = len(raw) - 4 - 4 * ndim
    if found != math.prod(shape):
        raise _damaged(path, f"its header announces {math.prod(shape)} bytes of data, but it "
                             f"holds {found}")
    array = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)
    array.flags.writeable = False  # frombuffer over bytes is read-only already; be explicit
    return array


def _damaged(path: str, reason: str) -> DataError:
    return DataError(
        f"Fashion-MNIST files must be intact gzipped IDX files, but {path} is not ({reason}); "
        f"reinstall them with `apt-get install --reinstall dataset-fashion-mnist`, or pass "
        f"--data-dir a folder holding intact copies."
    )


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


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


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

    The reference for the model's own preprocessing (`study.preprocessing`), and the "old
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


def make_dataset(
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
    augments and scales them itself (`study.preprocessing`); the rest describes the host-side
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
