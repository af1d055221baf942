"""study.data.pipeline: tf.data batches of the stored uint8 images, shuffled when training."""

from __future__ import annotations

import numpy as np
import pytest

from study.data import pipeline
from study.errors import DataError


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


def test_batch_size_must_be_positive(images_and_labels) -> None:
    images, labels = images_and_labels
    with pytest.raises(DataError, match=r"`batch_size` must be positive, but got 0\."):
        pipeline.make_dataset(images, labels, batch_size=0, training=True)
