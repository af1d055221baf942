"""Tests for study.data: real Fashion-MNIST subsets, fake IDX folders and mocked TFDS sets."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from study.data import fashion_mnist, pipeline
from study.data import splits as data
from study.data.splits import DataError

FASHION_DIR = fashion_mnist.DEBIAN_FASHION_MNIST_DIR
needs_fashion_mnist = pytest.mark.skipif(
    not (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="needs the Debian package dataset-fashion-mnist",
)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Writes a uint8 array as a gzipped IDX file (magic 0x0000 08 ndim, big-endian sizes)."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def write_fake_fashion_mnist(folder: Path, train: int = 50, test: int = 10) -> Path:
    """Writes a tiny IDX set whose image i holds i in its first pixels, so each is unique."""
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count, offset in (("train", train, 0), ("t10k", test, 1000)):
        images = np.zeros((count, 28, 28), np.uint8)
        images[:, 0, 0], images[:, 0, 1] = np.divmod(np.arange(count) + offset, 256)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(count) % 10)
    return folder


def image_ids(images: np.ndarray) -> np.ndarray:
    """Recovers the ids that write_fake_fashion_mnist stored in each image."""
    return images[:, 0, 0, 0].astype(int) * 256 + images[:, 0, 1, 0]


def read_raw_idx(path: Path, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), np.uint8, offset=header)


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fashion_mnist.FASHION_MNIST_DIR_ENV, raising=False)


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


def test_train_and_val_are_disjoint_and_cover_the_training_set(tmp_path: Path) -> None:
    folder = write_fake_fashion_mnist(tmp_path)
    splits = data.load_splits(data_dir=folder, seed=3)
    train_ids, val_ids = image_ids(splits.train_images), image_ids(splits.val_images)
    assert len(val_ids) == 5  # 10% of 50
    assert set(train_ids).isdisjoint(val_ids)
    assert sorted([*train_ids, *val_ids]) == list(range(50))
    np.testing.assert_array_equal(splits.train_labels, train_ids % 10)
    np.testing.assert_array_equal(image_ids(splits.test_images), np.arange(1000, 1010))


def test_changing_one_size_leaves_the_other_split_alone(tmp_path: Path) -> None:
    folder = write_fake_fashion_mnist(tmp_path)
    small = data.load_splits(data_dir=folder, train_size=10, val_size=5)
    large = data.load_splits(data_dir=folder, train_size=30, val_size=8)
    assert set(image_ids(small.train_images)) <= set(image_ids(large.train_images))
    assert set(image_ids(small.val_images)) <= set(image_ids(large.val_images))


def test_data_dir_beats_env_var_which_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = write_fake_fashion_mnist(tmp_path / "env", train=20)
    from_argument = write_fake_fashion_mnist(tmp_path / "argument", train=30)
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_DIR_ENV, str(from_env))
    assert len(data.load_splits(val_size=2).train_images) == 18
    assert len(data.load_splits(data_dir=from_argument, val_size=2).train_images) == 28


def test_fashion_mnist_stays_at_its_stored_size_for_the_model_to_resize(tmp_path: Path) -> None:
    folder = write_fake_fashion_mnist(tmp_path)
    splits = data.load_splits(data_dir=folder)
    assert splits.train_images.shape[1:] == (28, 28, 1) and splits.train_images.dtype == np.uint8
    with pytest.raises(DataError, match=r"`image_size` must be None for fashion_mnist, whose "
                                        r"28x28 images the model resizes itself, but got 40\."):
        data.load_splits(data_dir=folder, image_size=40)


def test_fashion_mnist_loads_without_importing_tensorflow(tmp_path: Path) -> None:
    # Backends without TensorFlow (JAX machines) load and prepare data with numpy alone.
    folder = write_fake_fashion_mnist(tmp_path)
    script = (
        "import sys; from study.data import splits as data; "
        f"splits = data.load_splits(data_dir={str(folder)!r}, train_size=8); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True)


# Input pipelines.


@pytest.fixture(scope="module")
def images_and_labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (40, 28, 28, 1), dtype=np.uint8), np.arange(40) % 10


def test_without_an_image_size_the_batches_are_the_stored_uint8_images(
        images_and_labels) -> None:
    images, labels = images_and_labels
    dataset = pipeline.make_dataset(images, labels, batch_size=16, training=False)
    batches = list(dataset.as_numpy_iterator())
    assert [batch.dtype for batch, _ in batches] == [np.uint8] * 3
    np.testing.assert_array_equal(np.concatenate([batch for batch, _ in batches]), images)
    shuffled = pipeline.make_dataset(images, labels, batch_size=40, training=True)
    first = next(shuffled.as_numpy_iterator())
    assert not np.array_equal(first[0], images)  # shuffled, pairs kept together:
    np.testing.assert_array_equal(np.sort(first[1]), np.sort(labels))


def label_order(dataset) -> list[int]:
    return [int(label) for _, labels in dataset.as_numpy_iterator() for label in labels]


def test_training_shuffle_is_seeded_and_new_each_epoch(images_and_labels) -> None:
    images, _ = images_and_labels
    ids = np.arange(40)

    def build(seed: int):
        return pipeline.make_dataset(images, ids, batch_size=8, training=True, seed=seed)

    dataset = build(seed=5)
    first_epoch, second_epoch = label_order(dataset), label_order(dataset)
    assert sorted(first_epoch) == list(range(40))
    assert first_epoch != list(range(40)) and first_epoch != second_epoch
    assert label_order(build(seed=5)) == first_epoch
    assert label_order(build(seed=6)) != first_epoch


# TensorFlow Datasets, mocked: tfds.testing.mock_data makes random examples offline.


def write_tfds_split_metadata(data_dir: Path, name: str, sizes: dict[str, int]) -> None:
    """Writes the split metadata that mock_data lacks offline (it would report no splits)."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=str(data_dir))
    builder.info.set_splits(
        tfds.core.SplitDict(
            [
                tfds.core.SplitInfo(name=split, shard_lengths=[size], num_bytes=0)
                for split, size in sizes.items()
            ]
        )
    )
    Path(builder.data_dir).mkdir(parents=True)
    builder.info.write_to_directory(builder.data_dir)


def test_tfds_uses_the_test_split_when_the_metadata_has_one(tmp_path: Path) -> None:
    import tensorflow_datasets as tfds

    write_tfds_split_metadata(tmp_path, "mnist", {"train": 30, "test": 10})
    with tfds.testing.mock_data(num_examples=30, data_dir=str(tmp_path)):
        splits = data.load_splits("tfds:mnist", val_size=3)
    assert splits.num_classes == 10
    assert splits.train_images.shape == (27, 28, 28, 1) and splits.train_images.dtype == np.uint8
    assert splits.test_images.shape == (30, 28, 28, 1)  # mock_data fills every split alike
    assert splits.train_labels.dtype == np.int32


def test_tfds_without_a_test_split_carves_one_from_train() -> None:
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        splits = data.load_splits("tfds:cifar10", train_size=20, val_size=4)
        again = data.load_splits("tfds:cifar10", train_size=20, val_size=4, seed=1)
    assert splits.num_classes == 10
    assert splits.train_images.shape == (20, 32, 32, 3)
    assert splits.val_images.shape == (4, 32, 32, 3)
    assert splits.test_images.shape == (4, 32, 32, 3)  # 10% of 40, whatever the seed
    np.testing.assert_array_equal(splits.test_images, again.test_images)


def test_tfds_variable_size_images_are_resized_at_load() -> None:
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=20):
        splits = data.load_splits("tfds:tf_flowers", image_size=48)
        with pytest.raises(DataError, match=r"`image_size` must be given for tfds:tf_flowers"):
            data.load_splits("tfds:tf_flowers")
    assert splits.num_classes == 5
    assert splits.train_images.shape[1:] == (48, 48, 3) and splits.train_images.dtype == np.uint8
    dataset = pipeline.make_dataset(splits.train_images, splits.train_labels, batch_size=4,
                                    training=True)
    assert next(dataset.as_numpy_iterator())[0].shape == (4, 48, 48, 3)


# Mistakes: each is a one-line DataError stating the rule and the value received.


@pytest.mark.parametrize("dataset", ["mnist", "tfds:", "cifar10", "folder:"])
def test_unknown_dataset_forms_are_rejected(dataset: str) -> None:
    rule = r"'fashion_mnist', 'tfds:<name>'.*'folder:<path>'"
    with pytest.raises(DataError, match=rf"{rule}.*got '{dataset}'"):
        data.load_splits(dataset)


def test_unknown_tfds_name_is_rejected() -> None:
    with pytest.raises(DataError, match=r"TensorFlow Datasets set .* got 'tfds:no_such_set'"):
        data.load_splits("tfds:no_such_set")
    with pytest.raises(DataError, match=r"must be 'tfds:' and a TensorFlow Datasets name such "
                                        r"as 'cifar10' or 'mnist:3.0.1', but got 'tfds:bad "
                                        r"name!' \(Parsing builder name string"):
        data.load_splits("tfds:bad name!", image_size=32)


def test_missing_files_say_how_to_get_them(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(DataError, match=r"apt-get install dataset-fashion-mnist") as error:
        data.load_splits(data_dir=tmp_path)
    assert str(tmp_path) in str(error.value) and "\n" not in str(error.value)
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(DataError, match=rf"\${fashion_mnist.FASHION_MNIST_DIR_ENV} .*--data-dir"):
        data.load_splits()


def test_image_size_below_32_is_rejected(tmp_path: Path) -> None:
    message = r"`image_size` must be at least 32, but got 28\."
    with pytest.raises(DataError, match=message):
        data.load_splits(data_dir=write_fake_fashion_mnist(tmp_path), image_size=28)


def test_batch_size_must_be_positive(images_and_labels) -> None:
    images, labels = images_and_labels
    with pytest.raises(DataError, match=r"`batch_size` must be positive, but got 0\."):
        pipeline.make_dataset(images, labels, batch_size=0, training=True)


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
def test_bad_sizes_are_rejected(tmp_path: Path, sizes: dict[str, int], message: str) -> None:
    with pytest.raises(DataError, match=message):
        data.load_splits(data_dir=write_fake_fashion_mnist(tmp_path), **sizes)


@needs_fashion_mnist
def test_sizes_larger_than_fashion_mnist_are_rejected() -> None:
    message = r"must not exceed the 60000 training images of fashion_mnist, but got 59000 \+ 6000"
    with pytest.raises(DataError, match=message):
        data.load_splits(train_size=59000)


# Damaged files: one DataError naming the file and how to get intact ones, never a traceback.


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a gzip file at all\n" * 10)


def _short_data(path: Path) -> None:  # a valid gzip whose header announces more images
    write_idx(path, np.zeros((9, 28, 28), np.uint8))
    with gzip.open(path, "rb") as file:
        raw = bytearray(file.read())
    raw[4:8] = struct.pack(">i", 10)
    with gzip.open(path, "wb") as file:
        file.write(bytes(raw))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [(_truncate, "end-of-stream"), (_garbage, "Not a gzipped file"), (_short_data, "holds")],
)
def test_a_damaged_fashion_mnist_file_is_named_with_how_to_reinstall(
    tmp_path: Path, damage, reason: str
) -> None:
    folder = write_fake_fashion_mnist(tmp_path / "fashion")
    damaged = folder / "t10k-images-idx3-ubyte.gz"
    damage(damaged)

    with pytest.raises(DataError, match=r"must be intact gzipped IDX files") as error:
        data.load_splits(data_dir=folder)

    message = str(error.value)
    assert str(damaged) in message and reason in message and "\n" not in message
    assert "apt-get install --reinstall dataset-fashion-mnist" in message
    assert "--data-dir" in message


def test_a_damaged_file_is_one_line_at_the_command_line(tmp_path: Path) -> None:
    folder = write_fake_fashion_mnist(tmp_path / "fashion")
    _truncate(folder / "train-labels-idx1-ubyte.gz")
    result = subprocess.run(
        [sys.executable, "-m", "study.search", "--data-dir", str(folder),
         "--storage", f"sqlite:///{tmp_path}/s.db", "--train-size", "20", "--val-size", "5"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[3], check=False,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]  # TensorFlow may log lines of its own first
    assert last.startswith("python -m study.search: error: Fashion-MNIST files must be intact")
    assert "train-labels-idx1-ubyte.gz" in last


# Image sizes that cannot fit in memory: refused before anything is allocated.


def test_arrays_larger_than_the_memory_are_refused_before_allocating(
    tmp_path: Path, monkeypatch
) -> None:
    from study.config import ConfigError
    from study.data import memory

    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 2**20)  # a 1 MiB machine
    message = r"10 x 96x96 x 12 bytes = 1.05 MiB, more than this machine's 1 MiB; lower"
    with pytest.raises(ConfigError, match=message):  # 1.1 MB of float32 inputs
        memory.check_fits_in_memory("ten inputs", 10, 96, bytes_per_pixel=12)
    memory.check_fits_in_memory("ten inputs", 10, 32, bytes_per_pixel=12)  # 0.1 MB


def test_a_tfds_set_too_large_at_that_size_is_refused_before_loading(
    tmp_path: Path, monkeypatch
) -> None:
    import tensorflow_datasets as tfds

    from study.config import ConfigError
    from study.data import memory

    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 2**30)  # a 1 GiB machine
    write_tfds_split_metadata(tmp_path, "tf_flowers", {"train": 3670})  # its real size
    with tfds.testing.mock_data(num_examples=20, data_dir=str(tmp_path)):
        message = r"the images of tfds:tf_flowers, as uint8 fit .* = 1.05 GiB, more than"
        with pytest.raises(ConfigError, match=message):
            data.load_splits("tfds:tf_flowers", data_dir=tmp_path, image_size=320)  # 1.05 GiB
        splits = data.load_splits("tfds:tf_flowers", data_dir=tmp_path, image_size=32)
    assert splits.num_classes == 5


def test_physical_memory_is_known_here() -> None:
    from study.data.memory import physical_memory_bytes

    assert physical_memory_bytes() > 2**28  # more than 256 MiB: this is the real figure


# A TFDS set not downloaded yet: loaded up to the download, which must say what to do.


def test_a_tfds_set_not_downloaded_yet_says_to_download_it_first(
    tmp_path: Path, monkeypatch
) -> None:
    import tensorflow_datasets as tfds

    asked = []

    def no_network(self, url_or_urls):  # where TFDS would fetch the archive
        asked.append(url_or_urls)
        raise ConnectionError("Network is unreachable (test)")

    monkeypatch.setattr(tfds.download.DownloadManager, "download", no_network)
    monkeypatch.setattr(tfds.download.DownloadManager, "download_and_extract", no_network)

    with pytest.raises(DataError, match=r"tfds:tf_flowers must be downloaded first") as error:
        data.load_splits("tfds:tf_flowers", data_dir=tmp_path / "tfds", image_size=32)

    message = str(error.value)
    assert asked, "the load never reached the download step"
    assert "Network is unreachable (test)" in message and "\n" not in message
    assert "download_and_prepare()" in message and str(tmp_path / "tfds") in message
