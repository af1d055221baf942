"""A folder of class subfolders: read with Pillow into the same splits as every dataset."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from study.data.folder_source import load_arrays
from study.data.splits import load_splits
from study.errors import DataError


def _write_images(folder, classes: dict[str, int], size=(20, 14), suffix=".png"):
    rng = np.random.default_rng(0)
    for index, (name, count) in enumerate(classes.items()):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            pixels = np.full((size[1], size[0], 3), 40 * index, np.uint8)
            pixels[0, 0] = rng.integers(0, 256, 3)
            mode = "L" if k % 3 == 2 else "RGB"  # grayscale files are converted to RGB
            Image.fromarray(pixels).convert(mode).save(folder / name / f"{k}{suffix}")


def test_classes_in_alphabetical_order_and_a_fixed_test_split(tmp_path):
    _write_images(tmp_path, {"cat": 10, "ant": 10, "bee": 10})
    train_x, train_y, test_x, test_y, num_classes = load_arrays(tmp_path, image_size=32)

    assert num_classes == 3
    assert train_x.shape[1:] == (32, 32, 3) and train_x.dtype == np.uint8
    assert len(train_x) + len(test_x) == 30 and len(test_x) == 3
    # Written in the order cat (pixels 0), ant (40), bee (80); labels go alphabetically.
    images = np.concatenate([train_x, test_x])[:, 5:, 5:]
    labels = np.concatenate([train_y, test_y])
    assert [set(np.unique(images[labels == k])) for k in range(3)] == [{40}, {80}, {0}]
    again = load_arrays(tmp_path, image_size=32)
    assert np.array_equal(again[2], test_x)


def test_train_and_test_subfolders_are_used_as_given(tmp_path):
    _write_images(tmp_path / "train", {"a": 6, "b": 6}, suffix=".jpg")
    _write_images(tmp_path / "test", {"a": 2, "b": 3}, suffix=".jpg")
    train_x, _, test_x, test_y, num_classes = load_arrays(tmp_path, image_size=32)

    assert (len(train_x), len(test_x), num_classes) == (12, 5, 2)
    assert list(test_y) == [0, 0, 1, 1, 1]


def test_load_splits_carves_validation_from_a_folder(tmp_path):
    _write_images(tmp_path, {"a": 20, "b": 20})
    splits = load_splits(f"folder:{tmp_path}", image_size=32, val_size=6, seed=1)

    assert (len(splits.train_images), len(splits.val_images), len(splits.test_images)) == \
        (30, 6, 4)
    assert splits.num_classes == 2


@pytest.mark.parametrize("make, message", [
    (lambda root: None, "must hold one subfolder of images per class, at least two"),
    (lambda root: _write_images(root, {"only": 4}), "at least two, but holds 1"),
    (lambda root: (_write_images(root, {"a": 3}), (root / "b").mkdir()),
     "must hold JPEG or PNG images, but holds none"),
    (lambda root: (_write_images(root, {"a": 3, "b": 3}),
                   (root / "b" / "broken.png").write_bytes(b"not an image")),
     "broken.png' must be a readable JPEG or PNG"),
])
def test_bad_folders_are_one_line_errors(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(DataError, match=message):
        load_arrays(tmp_path, image_size=32)


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(DataError, match="must name a folder"):
        load_arrays(tmp_path / "nowhere", image_size=32)


def test_the_search_refuses_a_one_class_folder_before_writing(tmp_path, capsys):
    from study.search import main

    _write_images(tmp_path / "images", {"only": 4})
    storage = tmp_path / "s.db"
    code = main(["--dataset", f"folder:{tmp_path / 'images'}", "--storage",
                 f"sqlite:///{storage}", "--study-name", "s"])

    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "at least two, but holds 1" in err
    assert not storage.exists()


def test_a_folder_loads_where_tensorflow_is_missing(tmp_path):
    import subprocess
    import sys

    _write_images(tmp_path, {"a": 5, "b": 5})
    code = ("import sys; sys.modules['tensorflow'] = None  # import tensorflow now fails\n"
            "from study.data.splits import load_splits\n"
            f"splits = load_splits('folder:{tmp_path}', image_size=32, val_size=2)\n"
            "print(len(splits.train_images), 'tensorflow' in sys.modules and "
            "sys.modules['tensorflow'] is not None)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["7", "False"]
