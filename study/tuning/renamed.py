"""Arguments renamed to the names Keras Tuner users know, the old names kept for one release."""

from __future__ import annotations

import warnings

__all__ = ["renamed_argument"]


def renamed_argument(name: str, value: object, old_name: str, old_value: object) -> object:
    """The value of an argument given under its name or, with a DeprecationWarning, its old one.

    Raises:
        ValueError: when both names are given.
    """
    if old_value is None:
        return value
    if value is not None:
        raise ValueError(f"`{old_name}` is the old name of `{name}`: pass one of them, but got "
                         f"{name}={value!r} and {old_name}={old_value!r}.")
    warnings.warn(f"`{old_name}` is deprecated and will be removed in the next release; pass "
                  f"`{name}` instead.", DeprecationWarning, stacklevel=3)
    return old_value
