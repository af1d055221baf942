"""Which Keras dtype policy a run trains in: float32, mixed float16 or bfloat16, or chosen here.

`--precision auto` picks mixed bfloat16 where the device computes it natively (NVIDIA GPUs of
compute capability 8.0 and later: A100, H100, H200, RTX 30xx and later; TPUs) and float32
elsewhere: on CPUs bfloat16 is emulated and slower, and older GPUs lack bfloat16 tensor cores
(mixed_float16 suits them, asked for by name). bfloat16 keeps float32's exponent range, so it
needs no loss scaling, unlike float16.
"""

from __future__ import annotations

__all__ = ["AUTO", "PRECISIONS", "dtype_policy_for", "supports_bfloat16"]

AUTO = "auto"
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", AUTO)
_BFLOAT16_COMPUTE_CAPABILITY = (8, 0)  # Ampere: the first NVIDIA GPUs with bf16 tensor cores


def dtype_policy_for(precision: str) -> str:
    """The Keras dtype policy name for a `precision` setting, resolving "auto" on this machine.

    Args:
        precision: One of `PRECISIONS`.

    Returns:
        "float32", "mixed_float16" or "mixed_bfloat16".

    Raises:
        ValueError: for a value outside `PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {list(PRECISIONS)}, but got {precision!r}.")
    if precision != AUTO:
        return precision
    return "mixed_bfloat16" if supports_bfloat16() else "float32"


def supports_bfloat16() -> bool:
    """Whether Keras' backend here runs on an accelerator with native bfloat16 arithmetic."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        for device in jax.devices():
            if device.platform == "tpu":
                return True
            capability = getattr(device, "compute_capability", None)  # "9.0", CUDA only
            if device.platform == "gpu" and _at_least(capability):
                return True
        return False
    if backend == "torch":
        import torch

        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if backend == "tensorflow":
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(gpu)
            if _at_least(details.get("compute_capability")):  # (9, 0)
                return True
        return bool(tf.config.list_physical_devices("TPU"))
    return False


def _at_least(capability: object) -> bool:
    """Whether a compute capability, "major.minor" (JAX) or (major, minor) (TensorFlow),
    reaches `_BFLOAT16_COMPUTE_CAPABILITY`; False when it is missing or unreadable."""
    parts = capability.split(".") if isinstance(capability, str) else capability
    try:
        major, minor = (int(part) for part in tuple(parts)[:2])
    except (TypeError, ValueError):
        return False
    return (major, minor) >= _BFLOAT16_COMPUTE_CAPABILITY
