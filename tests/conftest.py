"""Fixtures for the whole suite: a private PostgreSQL server, a clean garbage collector, and
what a fresh interpreter loads."""

from __future__ import annotations

import gc
import glob
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DATABASE = "bnstudy"
# Set by `make test` (and so by CI): there a missing server fails the tests instead of
# skipping them, so the PostgreSQL tests cannot pass by not running.
REQUIRE_POSTGRES = "BNSTUDY_REQUIRE_POSTGRES"


@pytest.fixture(autouse=True)
def _unfreeze_objects() -> Iterator[None]:
    """Undoes the CLI's `gc.freeze()` after each test that runs it in this process, so that one
    test's leftovers stay collectable and the next test starts as a fresh CLI process would."""
    yield
    gc.unfreeze()


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here and in the commands started meanwhile, as in a shell.

    A process started in the background (`cmd &`, nohup, some CI runners) ignores SIGINT, and its
    children inherit that: Python then installs no handler and a Ctrl-C test would wait forever.
    A Python-level handler is not inherited over exec, so children get the default back.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session")
def loaded_after() -> Callable[[str, set[str]], list[str]]:
    """`loaded_after(statements, names)`: which of `names` a fresh interpreter has in
    `sys.modules` after running `statements` in the repository root, sorted."""

    def loaded(statements: str, names: set[str]) -> list[str]:
        code = f"import sys\n{statements}\nprint(sorted({sorted(names)!r} & sys.modules.keys()))"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                cwd=Path(__file__).parents[1], check=True)
        return eval(result.stdout.strip().splitlines()[-1])  # a printed list of str

    return loaded


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL to an empty database on a PostgreSQL server of its own, on loopback.

    The server runs from Debian's binaries (`/usr/lib/postgresql/<version>/bin`) in a temporary
    folder at a free port, and is stopped and removed after the session. Without PostgreSQL or
    its Python driver the tests that use it are skipped, or fail under `make test`.
    """
    bin_dir = _postgres_bin_dir()
    if bin_dir is None or importlib.util.find_spec("psycopg") is None:
        missing = "the PostgreSQL server" if bin_dir is None else "the driver psycopg"
        message = (f"{missing} is not installed; `make test` installs it (Debian package "
                   "postgresql, Python extra bnstudy[postgres]).")
        if os.environ.get(REQUIRE_POSTGRES):
            pytest.fail(message)
        pytest.skip(message)

    # Not pytest's tmp_path: its parents are private to us, and the server's user must enter it.
    folder = Path(tempfile.mkdtemp(prefix="bnstudy-postgres-"))
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    sockets.mkdir()
    # PostgreSQL refuses to run as root: as root the server runs as the `postgres` user,
    # which the Debian package creates, and owns the folder.
    as_server = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_server:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
               # A throwaway server: not syncing to disk makes every commit quick.
               " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")

    def server(tool: str, *args: str) -> None:
        # The server's user may not enter the current folder, so commands run from `folder`.
        subprocess.run([*as_server, str(bin_dir / tool), *args], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    started = False
    try:
        try:
            server("initdb", "-D", str(data), "--username=postgres", "--auth=trust",
                   "--encoding=UTF8", "--no-sync")
            server("pg_ctl", "start", "-w", "-D", str(data), "-l", str(log), "-o", options)
            started = True
            server("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", DATABASE)
        except subprocess.CalledProcessError as error:
            server_log = log.read_text() if log.is_file() else ""
            raise RuntimeError(f"PostgreSQL did not start: {error.stderr.decode()}{server_log}"
                               ) from None
        yield f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            server("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(data))
        shutil.rmtree(folder, ignore_errors=True)


def _postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's binaries, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda path: int(Path(path).parts[-3].split(".")[0]))
    return Path(newest).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
