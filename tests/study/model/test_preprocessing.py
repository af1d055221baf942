"""The model's first layer: stored uint8 images to network inputs, as the host did it before."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from study.model.preprocessing import Preprocessing


def _preprocessor(stored_shape: tuple[int, int, int], preprocessing: Preprocessing
                  ) -> keras.Model:
    inputs = keras.Input(stored_shape, dtype="uint8")
    return keras.Model(inputs, preprocessing(inputs))


@pytest.mark.parametrize(("stored_shape", "image_size"),
                         [((28, 28, 1), 32), ((28, 28, 1), 224), ((40, 40, 3), 32),
                          ((32, 32, 3), 32)])
def test_the_layer_gives_the_pixels_the_host_gave(stored_shape, image_size, host_inputs):
    images = np.random.default_rng(0).integers(0, 256, (3, *stored_shape), dtype=np.uint8)

    pixels = np.asarray(_preprocessor(stored_shape, Preprocessing(image_size))(images))

    assert pixels.shape == (3, image_size, image_size, 3) and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels, host_inputs(images, image_size=image_size),
                               atol=1e-6)


def test_the_layer_computes_in_float32_under_a_mixed_policy(host_inputs):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = _preprocessor((28, 28, 1), Preprocessing(32))
    finally:
        keras.config.set_dtype_policy("float32")
    images = np.random.default_rng(1).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    pixels = np.asarray(model(images))
    assert pixels.dtype == np.float32
    np.testing.assert_allclose(pixels, host_inputs(images, image_size=32), atol=1e-6)


def test_augmentation_flips_and_shifts_while_training_only_and_is_seeded(host_inputs):
    images = np.random.default_rng(2).integers(1, 256, (8, 28, 28, 1), dtype=np.uint8)
    keras.utils.set_random_seed(0)
    model = _preprocessor((28, 28, 1), Preprocessing(32, augment=True))
    plain = host_inputs(images, image_size=32)

    np.testing.assert_allclose(np.asarray(model(images, training=False)), plain, atol=1e-6)
    augmented = np.asarray(model(images, training=True))

    assert augmented.shape == plain.shape and augmented.min() >= -1 and augmented.max() <= 1
    assert not np.allclose(augmented, plain)
    assert (augmented == -1.0).any()  # shifted in: black, the Fashion-MNIST background
    keras.utils.set_random_seed(0)
    again = _preprocessor((28, 28, 1), Preprocessing(32, augment=True))
    np.testing.assert_array_equal(np.asarray(again(images, training=True)), augmented)


def test_the_layer_has_no_weights():
    model = _preprocessor((28, 28, 1), Preprocessing(64, augment=True))
    assert model.count_params() == 0 and model.weights == []
