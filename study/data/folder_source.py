"""A folder of class subfolders of JPEG/PNG images as in-memory uint8 arrays.

The layout `keras.utils.image_dataset_from_directory` reads: `PATH/<class>/<image>`, classes in
alphabetical order. A folder with `train/` and `test/` subfolders of that layout gives both
splits; otherwise a fixed part of the images is held out as the test split, as for TFDS sets
without one. Read with Pillow, so it works where TensorFlow is missing (JAX-only GPU hosts).
`study.data.splits.load_splits("folder:PATH")` is the public way in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from study.data.holdout import carve_test_split
from study.data.memory import check_fits_in_memory
from study.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "load_arrays"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def load_arrays(path: str | Path, *, image_size: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Reads every image under `path`, resized to `image_size` squared, as RGB uint8.

    Args:
        path: The folder: one subfolder per class, or `train/` and `test/` each holding them.
        image_size: Side length every image is resized to (bilinear), since images in a
            folder differ in size.

    Returns:
        (train_images, train_labels, test_images, test_labels, num_classes): uint8 images
        (N, image_size, image_size, 3) and int32 labels.

    Raises:
        DataError: for a missing or empty folder, fewer than two classes, a class without
            images, a test folder whose classes differ, or an image Pillow cannot read.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"`dataset` folder:PATH must name a folder, but {str(root)!r} is not "
                        "one.")
    train_root, test_root = root / "train", root / "test"
    if train_root.is_dir() and test_root.is_dir():
        classes = _classes(train_root)
        if _classes(test_root) != classes:
            raise DataError(f"`dataset` folder {str(test_root)!r} must hold the classes of "
                            f"{str(train_root)!r} ({classes}), but holds "
                            f"{_classes(test_root)}.")
        train = _read(train_root, classes, image_size)
        test = _read(test_root, classes, image_size)
        return *train, *test, len(classes)
    classes = _classes(root)
    images, labels = _read(root, classes, image_size)
    return *carve_test_split(images, labels), len(classes)


def _classes(root: Path) -> list[str]:
    classes = sorted(child.name for child in root.iterdir() if child.is_dir())
    if len(classes) < 2:
        raise DataError(f"`dataset` folder {str(root)!r} must hold one subfolder of images "
                        f"per class, at least two, but holds {len(classes)}: {classes}.")
    return classes


def _read(root: Path, classes: list[str], image_size: int) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError  # Pillow comes with Keras' dependencies

    files = []
    for label, name in enumerate(classes):
        found = sorted(p for p in (root / name).rglob("*")
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise DataError(f"`dataset` class folder {str(root / name)!r} must hold JPEG or PNG "
                            "images, but holds none.")
        files += [(file, label) for file in found]
    check_fits_in_memory(f"the {len(files)} images of {str(root)!r}, as uint8", len(files),
                         image_size, bytes_per_pixel=3)
    images = np.empty((len(files), image_size, image_size, 3), np.uint8)
    for index, (file, _) in enumerate(files):
        try:
            with Image.open(file) as image:
                rgb = image.convert("RGB").resize((image_size, image_size),
                                                  Image.Resampling.BILINEAR)
                images[index] = np.asarray(rgb)
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raise DataError(f"`dataset` image {str(file)!r} must be a readable JPEG or PNG, "
                            f"but Pillow says: {error}.") from None
    return images, np.array([label for _, label in files], np.int32)
