"""Learning-rate schedules whose base value lives in an optimizer variable.

Keras' schedules keep their parameters as Python floats, which a traced (TensorFlow) or
compiled (JAX) train step bakes in as constants: a model reused by a trial with another
learning rate would go on training at the old one. Here the base learning rate is a variable
of the optimizer itself, so it is part of the optimizer's state on every backend (JAX passes
optimizer variables into its compiled step) and a reused model takes a trial's value by
assignment (`study.tuning.compiled_models.reinitialize`).
"""

from __future__ import annotations

import keras

__all__ = ["BASE_LEARNING_RATE", "VariableCosineDecay", "cosine_decay_optimizer"]

BASE_LEARNING_RATE = "base_learning_rate"  # name of the optimizer variable


class VariableCosineDecay(keras.optimizers.schedules.CosineDecay):
    """`keras.optimizers.schedules.CosineDecay` whose base value can be an optimizer variable.

    Gives the same numbers as `CosineDecay(learning_rate, decay_steps)`. Made by
    `cosine_decay_optimizer`, which moves the base value into the optimizer (`track_in`).
    """

    def track_in(self, optimizer: keras.optimizers.Optimizer) -> keras.Variable:
        """Moves the base learning rate into a new variable of `optimizer`, and returns it."""
        base = optimizer.add_variable(
            shape=(), dtype="float32", name=BASE_LEARNING_RATE,
            initializer=keras.initializers.Constant(float(self.initial_learning_rate)))
        self.initial_learning_rate = base  # read at run time by CosineDecay.__call__
        return base

    def get_config(self) -> dict[str, object]:
        """A plain `CosineDecay` config, with the base value as it is now."""
        config = super().get_config()
        config["initial_learning_rate"] = float(keras.ops.convert_to_numpy(
            self.initial_learning_rate))
        return config


def cosine_decay_optimizer(optimizer: type[keras.optimizers.Optimizer], learning_rate: float,
                           *, decay_steps: int, **kwargs: object) -> keras.optimizers.Optimizer:
    """An optimizer whose learning rate decays from `learning_rate` to 0 over `decay_steps`.

    Args:
        optimizer: The optimizer class, e.g. `keras.optimizers.SGD`.
        learning_rate: Base learning rate, positive.
        decay_steps: Steps over which the cosine decays to zero, positive.
        **kwargs: Passed to the optimizer (momentum, weight decay, ...).

    Returns:
        The optimizer; its variable `base_learning_rate` holds `learning_rate`.

    Raises:
        ValueError: when `learning_rate` or `decay_steps` is not positive.
    """
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be positive, but got {learning_rate}.")
    if decay_steps < 1:
        raise ValueError(f"`decay_steps` must be positive, but got {decay_steps}.")
    schedule = VariableCosineDecay(learning_rate, decay_steps)
    instance = optimizer(schedule, **kwargs)
    schedule.track_in(instance)
    return instance
