"""study.data.memory: image sizes that cannot fit in memory, refused before allocating."""

from __future__ import annotations

from pathlib import Path

import pytest


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


def test_physical_memory_is_known_here() -> None:
    from study.data.memory import physical_memory_bytes

    assert physical_memory_bytes() > 2**28  # more than 256 MiB: this is the real figure
