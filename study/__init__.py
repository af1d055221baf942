"""The writing side of bnstudy: data enters, trials run, studies are stored.

Its stages, each importing only those before it (tests/test_dependencies.py keeps the order):
`storage/` (what a study stores, and the one opener) -> `model/` (the network and the search
spaces' loader) -> `data/` (where data enters) -> `tuning/` (where trials run: Keras Tuner
front, Optuna back) -> `config.py` (a run's settings and presets) -> `runs/` (one set-up of a
run; the search) -> `reruns/` (the best configurations rerun on test) -> the commands
`search.py`, `confirm.py` and `snapshot.py`. `cli.py`, `errors.py` and `private_api.py` serve
every stage. `analysis` reads what this package stores; nothing here imports it.
"""
