"""Fixtures of the data tests: a tiny fake Fashion-MNIST folder, and no folder from the
environment, so that only what a test passes decides where Fashion-MNIST is read from."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from study.data import fashion_mnist


def _write_idx(path: Path, array: np.ndarray) -> None:
    """Writes a uint8 array as a gzipped IDX file (magic 0x0000 08 ndim, big-endian sizes)."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def _write_fake_fashion_mnist(folder: Path, train: int = 50, test: int = 10) -> Path:
    """Writes a tiny IDX set whose image i holds i in its first pixels, so each is unique."""
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count, offset in (("train", train, 0), ("t10k", test, 1000)):
        images = np.zeros((count, 28, 28), np.uint8)
        images[:, 0, 0], images[:, 0, 1] = np.divmod(np.arange(count) + offset, 256)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(count) % 10)
    return folder


@pytest.fixture
def write_fake_fashion_mnist() -> Callable[..., Path]:
    """Writes a fake Fashion-MNIST folder of IDX files: training images 0 to `train` - 1 and
    test images 1000 on, each holding its id in its first two pixels, labels id % 10.

    Returns:
        A function of (folder, train=50, test=10) returning the folder.
    """
    return _write_fake_fashion_mnist


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fashion_mnist.FASHION_MNIST_DIR_ENV, raising=False)
