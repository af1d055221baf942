"""The writing side of bnstudy: data enters, trials run, studies are stored.

Its stages, each importing only those before it (tests/test_dependencies.py keeps the order):
`stats/` (the verdict's statistics: the stop rule and `analysis` share them) -> `storage/`
(what a study stores, and the one opener) -> `model/` (the network and the search spaces'
loader) -> `data/` (where data enters) -> `tuning/` (where trials run: Keras Tuner front,
Optuna back) -> `config.py` (a run's settings and presets) -> `engine/` (the one set-up every
training run shares; the search) -> `reruns/` (the best configurations rerun: selection on
validation, confirmation on test) -> the commands `search.py`, `select.py`, `confirm.py`,
`run.py`, `snapshot.py` and `rename.py`. `cli.py`, `errors.py` and `private_api.py` serve
every stage. `analysis` reads what this package stores; nothing here imports it.

The public faces for your own code (docs/own_code.md): `OptunaTuner`, a Keras Tuner tuner whose
trials an Optuna study samples, prunes and stores, and `OptunaOracle`, its oracle, usable under
any `keras_tuner.Tuner`. Imported when first used, so that `import study` (and every command)
stays light.
"""

from __future__ import annotations

import importlib

__all__ = ["OptunaOracle", "OptunaTuner"]

_PUBLIC = {"OptunaTuner": "study.tuning.tuner", "OptunaOracle": "study.tuning.oracle"}


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'study' has no attribute {name!r}")
