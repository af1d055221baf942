"""`optuna-dashboard <storage>` serves a study's trials, `bn_position` and intermediate values.

The real server runs as a subprocess on loopback against a SQLite study written here without
training; the checks go through the same JSON API the dashboard's pages read.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

STUDY = "bn_dashboard"
DISTRIBUTIONS = {
    "bn_position": CategoricalDistribution(["before", "after"]),
    "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
    "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0]),
}
N_TRIALS = 12
STARTUP_SECONDS = 30  # importing optuna and the web stack takes a few seconds on a busy CPU
# Talk to loopback directly, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _write_study(url: str) -> None:
    study = optuna.create_study(study_name=STUDY, storage=url, direction="maximize")
    for number in range(N_TRIALS):
        study.add_trial(optuna.trial.create_trial(
            params={"bn_position": ("before", "after")[number % 2],
                    "learning_rate": 10 ** (-3 + number / 5), "alpha": 0.35},
            distributions=DISTRIBUTIONS, value=0.6 + number / 100,
            intermediate_values={1: 0.5, 2: 0.6}))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> dict:
    with _OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.load(response)


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[int]:
    """Starts `optuna-dashboard` on a free loopback port; yields the port, then stops it."""
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    _write_study(url)
    executable = Path(sys.executable).with_name("optuna-dashboard")
    port = _free_port()
    log = (tmp_path / "dashboard.log").open("w")
    server = subprocess.Popen([str(executable), url, "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"optuna-dashboard exited with {server.returncode}: "
                            f"{(tmp_path / 'dashboard.log').read_text()}")
            try:
                _get(port, "/api/studies")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail(f"optuna-dashboard did not answer within {STARTUP_SECONDS} s")
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.slow
def test_dashboard_serves_trials_placements_intermediate_values_and_importances(dashboard):
    summaries = _get(dashboard, "/api/studies")["study_summaries"]
    (summary,) = [s for s in summaries if s["study_name"] == STUDY]
    assert summary["directions"] == ["maximize"]

    detail = _get(dashboard, f"/api/studies/{summary['study_id']}")

    trials = detail["trials"]
    assert len(trials) == N_TRIALS
    placements = [{p["name"]: p["param_external_value"] for p in trial["params"]}["bn_position"]
                  for trial in trials]
    assert placements == [("before", "after")[number % 2] for number in range(N_TRIALS)]
    assert all(trial["state"] == "Complete" for trial in trials)
    assert all(trial["intermediate_values"] == [{"step": 1, "value": 0.5},
                                                {"step": 2, "value": 0.6}] for trial in trials)
    assert detail["has_intermediate_values"] is True
    assert {p["name"] for p in detail["union_search_space"]} == set(DISTRIBUTIONS)

    importances = _get(dashboard, f"/api/studies/{summary['study_id']}/param_importances")

    (per_objective,) = importances["param_importances"]
    assert {entry["name"] for entry in per_objective} >= {"bn_position", "learning_rate"}
    assert all(entry["importance"] >= 0 for entry in per_objective)
