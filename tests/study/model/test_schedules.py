"""The cosine decay whose base learning rate is an optimizer variable."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from study.model.schedules import BASE_LEARNING_RATE, VariableCosineDecay, cosine_decay_optimizer

STEPS = 40


def test_the_learning_rate_follows_kerass_cosine_decay_after_a_new_base_is_assigned():
    optimizer = cosine_decay_optimizer(keras.optimizers.SGD, 0.1, decay_steps=STEPS,
                                       momentum=0.9)
    config = optimizer.get_config()  # serialisable: the variable's value, not the variable
    assert config["learning_rate"]["config"]["initial_learning_rate"] == pytest.approx(0.1)
    (base,) = [v for v in optimizer.variables if v.name == BASE_LEARNING_RATE]
    base.assign(0.37)  # what a reused model's next trial does

    reference = keras.optimizers.schedules.CosineDecay(0.37, STEPS)
    for step in (0, 1, 13, STEPS, STEPS + 5):
        optimizer.iterations.assign(step)
        np.testing.assert_allclose(optimizer.learning_rate.numpy(), reference(step).numpy(),
                                   rtol=1e-6)


def test_the_base_learning_rate_is_an_optimizer_variable():
    optimizer = cosine_decay_optimizer(keras.optimizers.SGD, 0.05, decay_steps=STEPS)
    names = [variable.name for variable in optimizer.variables]
    assert BASE_LEARNING_RATE in names


def test_a_schedule_not_yet_tracked_is_kerass_cosine_decay():
    schedule = VariableCosineDecay(0.2, STEPS)
    assert float(schedule(10)) == pytest.approx(
        float(keras.optimizers.schedules.CosineDecay(0.2, STEPS)(10)))


@pytest.mark.parametrize(("learning_rate", "decay_steps", "message"), [
    (0.0, 10, r"`learning_rate` must be positive, but got 0.0\."),
    (0.1, 0, r"`decay_steps` must be positive, but got 0\."),
])
def test_bad_arguments_are_refused(learning_rate, decay_steps, message):
    with pytest.raises(ValueError, match=message):
        cosine_decay_optimizer(keras.optimizers.SGD, learning_rate, decay_steps=decay_steps)
