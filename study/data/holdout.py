"""The test split of a dataset that has none: a fixed part of its images, held out once."""

from __future__ import annotations

import numpy as np

__all__ = ["CARVED_TEST_FRACTION", "carve_test_split"]

CARVED_TEST_FRACTION = 0.1
# Fixed, unlike the study seed, so a carved test split is the same for every trial and seed.
_CARVED_TEST_SEED = 20180113


def carve_test_split(images: np.ndarray, labels: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Holds out CARVED_TEST_FRACTION of the images (at least one) as the test split.

    Done before the validation split is carved from the rest, so the test set never sees
    training; the same images give the same split whatever the study's seed.

    Returns:
        (train_images, train_labels, test_images, test_labels), each in the original order.
    """
    order = np.random.default_rng(_CARVED_TEST_SEED).permutation(len(images))
    held_out = max(1, int(len(order) * CARVED_TEST_FRACTION))
    test_index, train_index = np.sort(order[:held_out]), np.sort(order[held_out:])
    return images[train_index], labels[train_index], images[test_index], labels[test_index]
