"""study.data.fashion_mnist: where the IDX files are read from, and missing or damaged ones."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from study.data import fashion_mnist
from study.data import splits as data
from study.data.splits import DataError


def test_data_dir_beats_env_var_which_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_fake_fashion_mnist
) -> None:
    from_env = write_fake_fashion_mnist(tmp_path / "env", train=20)
    from_argument = write_fake_fashion_mnist(tmp_path / "argument", train=30)
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_DIR_ENV, str(from_env))
    assert len(data.load_splits(val_size=2).train_images) == 18
    assert len(data.load_splits(data_dir=from_argument, val_size=2).train_images) == 28


def test_missing_files_say_how_to_get_them(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(DataError, match=r"apt-get install dataset-fashion-mnist") as error:
        data.load_splits(data_dir=tmp_path)
    assert str(tmp_path) in str(error.value) and "\n" not in str(error.value)
    monkeypatch.setenv(fashion_mnist.FASHION_MNIST_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(DataError, match=rf"\${fashion_mnist.FASHION_MNIST_DIR_ENV} .*--data-dir"):
        data.load_splits()


# Damaged files: one DataError naming the file and how to get intact ones, never a traceback.


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a gzip file at all\n" * 10)


def _short_data(path: Path) -> None:  # a valid gzip whose header announces more images
    with gzip.open(path, "rb") as file:
        raw = bytearray(file.read())
    (count,) = struct.unpack(">i", raw[4:8])
    raw[4:8] = struct.pack(">i", count + 1)
    with gzip.open(path, "wb") as file:
        file.write(bytes(raw))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [(_truncate, "end-of-stream"), (_garbage, "Not a gzipped file"), (_short_data, "holds")],
)
def test_a_damaged_fashion_mnist_file_is_named_with_how_to_reinstall(
    tmp_path: Path, write_fake_fashion_mnist, damage, reason: str
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


def test_a_damaged_file_is_one_line_at_the_command_line(
    tmp_path: Path, write_fake_fashion_mnist
) -> None:
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
