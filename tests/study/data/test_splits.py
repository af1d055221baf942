"""study.data.splits: train, validation and test splits from real Fashion-MNIST and fake IDX
folders (conftest.py), and the mistakes in asking for them."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from study.data import fashion_mnist
from study.data import splits as data
from study.data.splits import DataError

FASHION_DIR = fashion_mnist.DEBIAN_FASHION_MNIST_DIR
needs_fashion_mnist = pytest.mark.skipif(
    not (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="needs the Debian package dataset-fashion-mnist",
)


def image_ids(images: np.ndarray) -> np.ndarray:
    """Recovers the ids that write_fake_fashion_mnist stored in each image."""
    return images[:, 0, 0, 0].astype(int) * 256 + images[:, 0, 1, 0]


def read_raw_idx(path: Path, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), np.uint8, offset=header)


# Fashion-MNIST, real files.


@needs_fashion_mnist
def test_fashion_mnist_defaults_hold_out_ten_percent_and_keep_test_untouched() -> None:
    splits = data.load_splits()
    assert (splits.name, splits.num_classes) == ("fashion_mnist", 10)
    assert splits.train_images.shape == (54000, 28, 28, 1)
    assert splits.val_images.shape == (6000, 28, 28, 1)
    assert splits.test_images.shape == (10000, 28, 28, 1)
    for images in (splits.train_images, splits.val_images, splits.test_images):
        assert images.dtype == np.uint8
    for labels in (splits.train_labels, splits.val_labels, splits.test_labels):
        assert labels.dtype == np.int32 and labels.min() == 0 and labels.max() == 9
    raw_test = read_raw_idx(FASHION_DIR / "t10k-images-idx3-ubyte.gz", header=16)
    np.testing.assert_array_equal(splits.test_images.ravel(), raw_test)
    raw_labels = read_raw_idx(FASHION_DIR / "t10k-labels-idx1-ubyte.gz", header=8)
    np.testing.assert_array_equal(splits.test_labels, raw_labels)
    assert not splits.test_images.flags.writeable


@needs_fashion_mnist
def test_fashion_mnist_subsets_follow_the_seed() -> None:
    first = data.load_splits(train_size=300, val_size=100, seed=1)
    again = data.load_splits(train_size=300, val_size=100, seed=1)
    other = data.load_splits(train_size=300, val_size=100, seed=2)
    assert first.train_images.shape == (300, 28, 28, 1) and len(first.train_labels) == 300
    assert first.val_images.shape == (100, 28, 28, 1) and len(first.val_labels) == 100
    np.testing.assert_array_equal(first.train_images, again.train_images)
    np.testing.assert_array_equal(first.val_labels, again.val_labels)
    assert not np.array_equal(first.train_images, other.train_images)
    assert not np.array_equal(first.val_images, other.val_images)
    np.testing.assert_array_equal(first.test_images, other.test_images)


def test_train_and_val_are_disjoint_and_cover_the_training_set(
    tmp_path: Path, write_fake_fashion_mnist
) -> None:
    folder = write_fake_fashion_mnist(tmp_path)
    splits = data.load_splits(data_dir=folder, seed=3)
    train_ids, val_ids = image_ids(splits.train_images), image_ids(splits.val_images)
    assert len(val_ids) == 5  # 10% of 50
    assert set(train_ids).isdisjoint(val_ids)
    assert sorted([*train_ids, *val_ids]) == list(range(50))
    np.testing.assert_array_equal(splits.train_labels, train_ids % 10)
    np.testing.assert_array_equal(image_ids(splits.test_images), np.arange(1000, 1010))


def test_changing_one_size_leaves_the_other_split_alone(
    tmp_path: Path, write_fake_fashion_mnist
) -> None:
    folder = write_fake_fashion_mnist(tmp_path)
    small = data.load_splits(data_dir=folder, train_size=10, val_size=5)
    large = data.load_splits(data_dir=folder, train_size=30, val_size=8)
    assert set(image_ids(small.train_images)) <= set(image_ids(large.train_images))
    assert set(image_ids(small.val_images)) <= set(image_ids(large.val_images))


def test_fashion_mnist_stays_at_its_stored_size_for_the_model_to_resize(
    tmp_path: Path, write_fake_fashion_mnist
) -> None:
    folder = write_fake_fashion_mnist(tmp_path)
    splits = data.load_splits(data_dir=folder)
    assert splits.train_images.shape[1:] == (28, 28, 1) and splits.train_images.dtype == np.uint8
    with pytest.raises(DataError, match=r"`image_size` must be None for fashion_mnist, whose "
                                        r"28x28 images the model resizes itself, but got 40\."):
        data.load_splits(data_dir=folder, image_size=40)


def test_fashion_mnist_loads_without_importing_tensorflow(
    tmp_path: Path, write_fake_fashion_mnist
) -> None:
    # Backends without TensorFlow (JAX machines) load and prepare data with numpy alone.
    folder = write_fake_fashion_mnist(tmp_path)
    script = (
        "import sys; from study.data import splits as data; "
        f"splits = data.load_splits(data_dir={str(folder)!r}, train_size=8); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True)


# Mistakes: each is a one-line DataError stating the rule and the value received.


@pytest.mark.parametrize("dataset", ["mnist", "tfds:", "cifar10", "folder:"])
def test_unknown_dataset_forms_are_rejected(dataset: str) -> None:
    rule = r"'fashion_mnist', 'tfds:<name>'.*'folder:<path>'"
    with pytest.raises(DataError, match=rf"{rule}.*got '{dataset}'"):
        data.load_splits(dataset)


def test_image_size_below_32_is_rejected(tmp_path: Path, write_fake_fashion_mnist) -> None:
    message = r"`image_size` must be at least 32, but got 28\."
    with pytest.raises(DataError, match=message):
        data.load_splits(data_dir=write_fake_fashion_mnist(tmp_path), image_size=28)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"train_size": 0}, r"`train_size` must be positive, but got 0\."),
        ({"val_size": -5}, r"`val_size` must be positive, but got -5\."),
        ({"val_size": 50}, r"`val_size` must be below the 50 training images .* got 50\."),
        (
            {"train_size": 46, "val_size": 5},
            r"`train_size` \+ `val_size` must not exceed the 50 training images of "
            r"fashion_mnist, but got 46 \+ 5\.",
        ),
    ],
)
def test_bad_sizes_are_rejected(
    tmp_path: Path, write_fake_fashion_mnist, sizes: dict[str, int], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        data.load_splits(data_dir=write_fake_fashion_mnist(tmp_path), **sizes)


@needs_fashion_mnist
def test_sizes_larger_than_fashion_mnist_are_rejected() -> None:
    message = r"must not exceed the 60000 training images of fashion_mnist, but got 59000 \+ 6000"
    with pytest.raises(DataError, match=message):
        data.load_splits(train_size=59000)
