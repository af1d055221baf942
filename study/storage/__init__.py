"""What a study stores in Optuna storage, and the one opener every command goes through.

`contract` names what both `study` and `analysis` read; `question` is what a study asks (its
scientific parameter and values, the reference first); `trials`, `reruns` and `records` say
what a search trial, a rerun and a study's record hold; `opener` checks and opens a storage.
The bottom of `study`: may import `study.errors` and `study.private_api` only.
"""
