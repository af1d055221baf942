"""Fixtures of the study tests: another program's SQLite file, a read-only folder, a fresh
PostgreSQL database, the stored images as the model sees them, and the search space's models
run eagerly."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy

import study.model.spaces


@pytest.fixture
def foreign_sqlite() -> Callable[[Path, str], bytes]:
    """Makes another program's SQLite file: one table, named as asked, with a row.

    Returns:
        A function of (path, table name) returning the file's bytes, to compare afterwards.
    """

    def make(path: Path, table: str) -> bytes:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, title TEXT)")
            connection.execute(f"INSERT INTO {table} (title) VALUES ('kept')")
            connection.commit()
        return path.read_bytes()

    return make


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Makes a folder that no file can be created in, as a user meets one; undone afterwards.

    The permission bits are enough for another user; root ignores them, so as root the folder
    is also made immutable (`chattr +i`), the one way root is refused too. Skips the test where
    neither works.

    Returns:
        A function of the folder, to call once what the test needs is in it.
    """
    made: list[Path] = []
    immutable: list[Path] = []

    def make(folder: Path) -> None:
        folder.chmod(0o555)
        made.append(folder)
        if _accepts_files(folder):  # root
            changed = shutil.which("chattr") and subprocess.run(
                ["chattr", "+i", str(folder)], capture_output=True, check=False).returncode == 0
            if changed:
                immutable.append(folder)
            if not changed or _accepts_files(folder):
                pytest.skip("no way here to make a folder read-only for this user")

    yield make
    for folder in immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    for folder in made:
        folder.chmod(0o755)


def _accepts_files(folder: Path) -> bool:
    try:
        (folder / "probe").touch()
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


@pytest.fixture
def postgres_database(postgres_url: str, tmp_path: Path) -> str:
    """A URL to a new, empty database on the test server, with a password in it.

    The test server trusts every local connection: the password is only there to be hidden.
    """
    server = sqlalchemy.engine.make_url(postgres_url)
    name = f"db_{tmp_path.name.lower()}"
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.set(database=name, password="s3cret-pw").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def host_inputs() -> Callable[..., object]:
    """What the model's first layer must compute from stored uint8 images, done the host's way:
    TensorFlow's bilinear resize (half-pixel centres, no antialiasing), grayscale copied to 3
    channels, then x / 127.5 - 1, in float32 (`study.model.preprocessing`)."""
    import numpy as np
    import tensorflow as tf

    def prepare(images: np.ndarray, *, image_size: int) -> np.ndarray:
        pixels = tf.image.resize(tf.cast(images, tf.float32), (image_size, image_size),
                                 method="bilinear")
        if pixels.shape[-1] == 1:
            pixels = tf.image.grayscale_to_rgb(pixels)
        return (pixels / 127.5 - 1.0).numpy()

    return prepare


@pytest.fixture
def eager_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The search space's models, run eagerly: real training of a few batches, made quick.

    Tracing MobileNetV2's train step in graph mode takes 20-30 s per model on a busy 2-core
    CPU, eager `fit` of two batches about 3 s. For tests of what data reaches `fit` and
    `evaluate` and what is stored, not of graph mode (tests/study/tuning/ trains in graph mode).
    Patched where every command gets its builder (`SearchSpace.build_for`); a test whose
    models were not built through it fails, so that the patch cannot silently miss again (it
    once patched a shorthand the commands had stopped calling, and these tests ran in graph
    mode, twice as slow).
    """
    build_for = study.model.spaces.SearchSpace.build_for
    built = []

    def eager_build_for(self, context):
        build = build_for(self, context)

        def build_eager(hp):
            model = build(hp)
            model.run_eagerly = True
            built.append(model)
            return model
        return build_eager

    monkeypatch.setattr(study.model.spaces.SearchSpace, "build_for", eager_build_for)
    yield
    assert built, "eager_models: no model was built through SearchSpace.build_for"
