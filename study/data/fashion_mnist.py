"""Fashion-MNIST read offline from its four gzipped IDX files, as uint8 arrays.

From `--data-dir`, `$BNSTUDY_FASHION_MNIST_DIR`, or the folder of the Debian package
`dataset-fashion-mnist`. numpy only: backends without TensorFlow read it too.
`study.data.splits.load_splits("fashion_mnist")` is the public way in.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from study.errors import DataError

__all__ = ["DEBIAN_FASHION_MNIST_DIR", "FASHION_MNIST_DIR_ENV", "NUM_CLASSES", "load_arrays"]

FASHION_MNIST_DIR_ENV = "BNSTUDY_FASHION_MNIST_DIR"
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
NUM_CLASSES = 10
_FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
_IDX_MAGIC = {3: 2051, 1: 2049}  # number of dimensions -> magic number of a uint8 IDX file


def load_arrays(
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
