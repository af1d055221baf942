"""study.data.tfds_source: TensorFlow Datasets sets, loaded through `load_splits("tfds:...")`
with tfds.testing.mock_data making random examples offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from study.data import pipeline
from study.data import splits as data
from study.errors import DataError


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


def test_unknown_tfds_name_is_rejected() -> None:
    with pytest.raises(DataError, match=r"TensorFlow Datasets set .* got 'tfds:no_such_set'"):
        data.load_splits("tfds:no_such_set")
    with pytest.raises(DataError, match=r"must be 'tfds:' and a TensorFlow Datasets name such "
                                        r"as 'cifar10' or 'mnist:3.0.1', but got 'tfds:bad "
                                        r"name!' \(Parsing builder name string"):
        data.load_splits("tfds:bad name!", image_size=32)


# A set too large for the memory at that image size: refused before it is loaded.


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
