"""Whether the arrays a setting asks for can fit in this machine's memory at all.

Checked before anything is allocated, so that an `--image-size` no machine here could hold is a
one-line mistake at the start rather than a crash, or a killed process, minutes later. Light on
purpose (standard library only): `study.config` checks settings with it.
"""

from __future__ import annotations

import os

from study.errors import ConfigError

__all__ = ["check_fits_in_memory", "physical_memory_bytes"]


def physical_memory_bytes() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not tell."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
        return None


def check_fits_in_memory(what: str, images: int, image_size: int, *, bytes_per_pixel: int
                         ) -> None:
    """Refuses an image size whose arrays alone would exceed this machine's physical memory.

    Args:
        what: The arrays, as the message names them, e.g. "one batch of float32 inputs".
        images: How many images they hold.
        image_size: Their side length.
        bytes_per_pixel: Channels times bytes per value, e.g. 3 * 4 for float32 RGB.

    Raises:
        ConfigError: stating the rule, the size, the estimate and the memory.
    """
    needed = images * image_size * image_size * bytes_per_pixel
    available = physical_memory_bytes()
    if available is not None and needed > available:
        raise ConfigError(
            f"`image_size` must let {what} fit in memory, but at {image_size} they take "
            f"{images} x {image_size}x{image_size} x {bytes_per_pixel} bytes = {_size(needed)}, "
            f"more than this machine's {_size(available)}; lower --image-size (or the batch or "
            f"training set size)."
        )


def _size(count: int) -> str:
    """A byte count for people: three significant digits, "1.05 GiB"."""
    value, unit = float(count), "bytes"
    for larger in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.3g} {unit}"
