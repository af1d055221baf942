"""Where trials run: the Keras Tuner front whose trials are asked from and told to Optuna.

The tuner and its oracle, Optuna's samplers and pruners by name, compiled models reused across
trials, seeding and progress lines. May import `study.model`, `study.storage`, `study.errors`
and `study.private_api`; never `study.config`, `study.engine` or `study.reruns`.
"""
