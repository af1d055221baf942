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
"""
