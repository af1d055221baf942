"""What one worker trains its reruns with: the run's set-up, loaded before its first rerun.

`study.select` and `study.confirm` build everything from the search's stored configuration.
A worker loads the data and the search space only when it takes its first rerun, so one that
joins a finished step, or one whose last reruns other workers hold, never loads them.

Light module level, like the rest of `study.reruns`: Keras and the engine are imported when
the first rerun is prepared.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from study.config import SearchConfig
    from study.engine.setup import RunSetup
    from study.reruns.training import RerunResult
    from study.storage.reruns import RerunSeeds
    from study.tuning.compiled_models import TrialModels

__all__ = ["RerunTrainer"]


class RerunTrainer:
    """Trains one worker's reruns of a stored configuration, and keeps their pace.

    Args:
        config: The search's configuration (`study.config.config_from_record`).
        held_out: "val" for the selection, "test" for the confirmation (`prepare_run`).
        reuse_compiled: Reruns of one architecture reuse its compiled model.
    """

    def __init__(self, config: SearchConfig, *, held_out: str, reuse_compiled: bool) -> None:
        self.config = config
        self._held_out = held_out
        self._reuse_compiled = reuse_compiled
        self._setup: RunSetup | None = None
        self._models: TrialModels | None = None
        self._started = 0.0
        self.trained = 0  # reruns trained by this worker

    def prepare(self) -> RunSetup:
        """Loads the data and the search space (once) and starts the clock."""
        if self._setup is None:
            from study.engine.setup import prepare_run

            self._setup = prepare_run(self.config, held_out=self._held_out)
            self._models = self._setup.models(reuse=self._reuse_compiled)
            self._started = time.perf_counter()
        return self._setup

    @property
    def code_version(self) -> str:
        """The code the reruns run on (`prepare` first)."""
        return self.prepare().code_version

    def train(self, params: dict[str, object], seeds: RerunSeeds) -> RerunResult:
        """Trains one configuration with `seeds` and scores it once on the held-out split."""
        from study.reruns import training

        setup = self.prepare()
        result = training.train_and_score(self._models, params, setup.inputs, self.config, seeds)
        self.trained += 1
        return result

    def measured(self, result: RerunResult, loss_name: str) -> dict[str, object]:
        """The user attributes a trained rerun adds (`study.storage.reruns.measured_attrs`),
        with the code this worker trained it on: a rerun queued by another worker (put back
        by a stopped one, or a killed one's copy) holds that worker's `code_version` until
        then."""
        from study.storage.reruns import measured_attrs

        return measured_attrs(loss=result.loss, seconds=result.seconds,
                              compiled_model=self._models.last_build,
                              dtype_policy=self._models.dtype_policy, history=result.history,
                              loss_name=loss_name) | {"weights_digest": result.weights_digest,
                                                      "code_version": self.code_version}

    def elapsed(self) -> float:
        """Seconds since the first rerun was prepared: what `trained` reruns took."""
        return time.perf_counter() - self._started

    @staticmethod
    def share(remaining: int, workers: int) -> int:
        """The reruns of `remaining` that fall to one of `workers` (at least one worker)."""
        return math.ceil(remaining / max(1, workers))
