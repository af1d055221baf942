"""Several `study.select` and `study.confirm` workers on one storage: SQLite on one machine,
PostgreSQL across machines. Each worker is a process of the real command with training faked
(tests/study/rerun_worker.py: a 0.2 s sleep, then an accuracy that only the configuration and
the seed decide), so the reruns any number of workers store can be checked against what one
process would have run."""

from __future__ import annotations

import collections
import importlib.util
import itertools
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

from study.reruns.stopping import LooksInOrder, StopRule, rerun_until_stopped
from study.stats.looks import anytime_verdict
from study.storage.contract import CONFIG_ATTR
from study.storage.heartbeat import retried_trial
from study.storage.opener import open_storage
from study.storage.reruns import CONFIRM_SEED_BASE, SELECT_SEED_BASE, rerun_seeds

WORKER = Path(__file__).with_name("rerun_worker.py")
ROOT = Path(__file__).parents[2]
N_WORKERS = 3
MAX_RERUNS = 40
MINIMUM = 10  # pairs before `--stop decided` may decide (30 in the command, 10 here)
DISTRIBUTIONS = {"bn_position": CategoricalDistribution(["before", "after"]),
                 "learning_rate": FloatDistribution(1e-4, 0.5, log=True)}
# (bn_position, learning_rate, val_accuracy): each value's best is its first trial.
SEARCH_TRIALS = [("before", 0.01, 0.80), ("before", 0.1, 0.70), ("before", 0.2, 0.60),
                 ("after", 0.01, 0.81), ("after", 0.1, 0.75), ("after", 0.2, 0.65)]


def _rerun_worker():
    spec = importlib.util.spec_from_file_location("rerun_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


accuracy = _rerun_worker().accuracy


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path):
    """The embedded default storage, or a PostgreSQL server as used across machines."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/bnstudy.db"
    return request.getfixturevalue("postgres_url")


def _searched(url: str, name: str) -> optuna.Study:
    """A finished search, as much of one as the reruns read: its record and trials."""
    search = optuna.create_study(study_name=name, storage=open_storage(url), direction="maximize")
    search.set_user_attr(CONFIG_ATTR, {"dataset": "fashion_mnist", "epochs": 1,
                                       "train_size": 256, "val_size": 128, "seed": 0})
    for position, learning_rate, value in SEARCH_TRIALS:
        search.add_trial(optuna.trial.create_trial(
            params={"bn_position": position, "learning_rate": learning_rate},
            distributions=DISTRIBUTIONS, value=value))
    return search


def _start(step: str, command: list[str], folder: Path, names: list[str],
           extra: dict[str, list[str]] | None = None) -> dict[str, subprocess.Popen]:
    """Starts one worker per name, each ready but waiting for the common start."""
    workers = {}
    for name in names:
        with open(folder / f"{name}.stderr", "w") as stderr:
            workers[name] = subprocess.Popen(
                [sys.executable, str(WORKER), step, "--seconds", "0.2", "--wait",
                 *(extra or {}).get(name, []), "--", *command],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                text=True)
    for name, worker in workers.items():
        assert worker.stdout.readline() == "ready\n", (folder / f"{name}.stderr").read_text()
    return workers


def _finish(workers: dict[str, subprocess.Popen], folder: Path
            ) -> dict[str, tuple[int, str, str]]:
    """Starts the workers together; (exit code, stdout, stderr) of each once all ended."""
    try:
        for worker in workers.values():
            worker.stdin.close()  # the common start
            worker.stdin = None  # so that `communicate` does not flush it
        outputs = {name: worker.communicate(timeout=120)[0] for name, worker in workers.items()}
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return {name: (worker.returncode, outputs[name], (folder / f"{name}.stderr").read_text())
            for name, worker in workers.items()}


def _overlapped(trials: list[optuna.trial.FrozenTrial]) -> bool:
    return any(a.datetime_start < b.datetime_complete and b.datetime_start < a.datetime_complete
               for a, b in itertools.combinations(trials, 2)
               if a.user_attrs["worker"] != b.user_attrs["worker"])


@pytest.mark.slow  # three processes on two cores, a few seconds each
def test_confirm_workers_take_each_rerun_once_stop_where_one_process_would_and_recover_a_kill(
        storage_url, tmp_path):
    name = f"S-{tmp_path.name}"  # unique, as the PostgreSQL database lasts the whole session
    search = _searched(storage_url, name)
    command = ["--storage", storage_url, "--study-name", name, "--stop", "decided",
               "--max-reruns", str(MAX_RERUNS)]
    names = [f"w{i}" for i in range(N_WORKERS)]

    minimum = ["--minimum", str(MINIMUM)]
    ended = _finish(_start("confirm", command, tmp_path, names,
                           extra={"w0": minimum, "w1": [*minimum, "--kill-at", "3"],
                                  "w2": minimum}), tmp_path)

    assert ended["w1"][0] == -signal.SIGKILL, ended["w1"]
    for worker in ("w0", "w2"):
        code, out, err = ended[worker]
        assert code == 0 and "Traceback" not in err, (out, err)
        assert '"matters" at a margin of ±0.50 pp; no more reruns.' in out, out
    trials = optuna.load_study(study_name=f"{name}/confirm", storage=storage_url).trials
    summary = [(t.number, t.state.name, t.params, t.user_attrs.get("seed"),
                t.user_attrs.get("failure_reason")) for t in trials]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    stored = {(t.params["bn_position"], t.user_attrs["seed"]): t.value for t in complete}
    # Every rerun exactly once; no trial left running or queued.
    assert len(stored) == len(complete), summary
    assert [one for one in summary if one[1] not in ("COMPLETE", "FAIL")] == []

    # One process, the same seeds: the loop of `rerun_until_stopped` on the same accuracies.
    best = {"before": search.trials[0].params, "after": search.trials[3].params}
    alone: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    rule = StopRule("decided", paired=True, minimum=MINIMUM)
    reason = rerun_until_stopped(alone, rerun_seeds(MAX_RERUNS), "equal", rule.reason_to_stop,
                                 lambda value, seed: accuracy(best[value], seed))
    assert len(alone["before"]) == len(alone["after"]) == MINIMUM
    for value, reruns in alone.items():
        for seed, value_alone in reruns.items():
            assert stored[value, seed] == pytest.approx(value_alone), (value, seed)
    # The stored reruns decide at the same rerun, with the same reason. Past it stand the
    # reruns taken while the decision was not stored yet (the killed rerun left a gap that
    # held it up); once stored, a worker may take at most one more (read before, taken after).
    done = {value: {seed: stored[value, seed] for seed in rerun_seeds(MAX_RERUNS)
                    if (value, seed) in stored} for value in alone}
    assert LooksInOrder(rule, list(alone), rerun_seeds(MAX_RERUNS)).reason_to_stop(done) \
        == reason
    first = {(value, seed) for value, reruns in alone.items() for seed in reruns}
    decided_at = max(t.datetime_complete for t in complete
                     if (t.params["bn_position"], t.user_attrs["seed"]) in first)
    late = [t.number for t in complete if t.datetime_start > decided_at]
    assert len(late) <= N_WORKERS - 1, (late, summary)
    assert anytime_verdict(done, paired=True, minimum=MINIMUM)[0] == "matters"
    assert anytime_verdict(alone, paired=True, minimum=MINIMUM)[0] == "matters"

    # The killed worker's rerun: failed once its heartbeat was stale and queued again by the
    # storage; its key is then rerun exactly once, by another worker. Usually that is the
    # queued copy; but the storage fails the stale trial and queues its copy in two writes, and
    # a worker reading the board between them finds the key free and claims it anew, the copy
    # then failing as its duplicate.
    killed = [t for t in trials if t.state == TrialState.FAIL
              and "failure_reason" not in t.user_attrs]
    assert len(killed) == 1, summary
    killed_key = (killed[0].params["bn_position"], killed[0].user_attrs["seed"])
    reran = [t for t in complete
             if (t.params["bn_position"], t.user_attrs["seed"]) == killed_key]
    assert len(reran) == 1, summary
    assert reran[0].user_attrs["worker"] != killed[0].user_attrs["worker"]
    copies = [t for t in trials if retried_trial(t) == killed[0].number]
    assert len(copies) == 1, summary
    assert copies[0] in reran or copies[0].user_attrs["failure_reason"].startswith(
        f"duplicate: trial {reran[0].number} "), summary
    duplicates = [t for t in trials if t.state == TrialState.FAIL and t not in killed]
    assert all(t.user_attrs["failure_reason"].startswith("duplicate: trial ")
               for t in duplicates), summary
    assert _overlapped(complete), "no reruns overlapped"
    workers = collections.Counter(t.user_attrs["worker"] for t in complete)
    assert len(workers) == N_WORKERS, workers


@pytest.mark.slow
def test_select_workers_rerun_every_candidate_seed_once_and_pick_alike(storage_url, tmp_path):
    name = f"S-{tmp_path.name}"
    search = _searched(storage_url, name)
    command = ["--storage", storage_url, "--study-name", name, "--top-k", "2", "--seeds", "2"]
    names = [f"w{i}" for i in range(N_WORKERS)]

    ended = _finish(_start("select", command, tmp_path, names), tmp_path)

    picks = set()
    for code, out, err in ended.values():
        assert code == 0 and "Traceback" not in err, (out, err)
        picks.add(tuple(line for line in out.splitlines() if line.startswith("Pick for ")))
    assert len(picks) == 1  # every worker ends with the whole selection, and the same picks
    trials = optuna.load_study(study_name=f"{name}/select", storage=storage_url).trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    keys = sorted((t.user_attrs["source_trial"], t.user_attrs["seed"]) for t in complete)
    seeds = rerun_seeds(2, SELECT_SEED_BASE)
    assert keys == sorted((number, seed) for number in (0, 1, 3, 4) for seed in seeds)
    assert all(t.value == pytest.approx(accuracy(search.trials[t.user_attrs["source_trial"]]
                                                 .params, t.user_attrs["seed"]))
               for t in complete)
    assert all(t.state == TrialState.FAIL and t.user_attrs["failure_reason"].startswith(
        "duplicate: ") for t in trials if t not in complete)
    assert len({t.user_attrs["worker"] for t in complete}) > 1


@pytest.mark.slow
def test_the_next_run_waits_for_a_killed_workers_rerun_and_takes_it_over(tmp_path):
    url = f"sqlite:///{tmp_path}/bnstudy.db"
    _searched(url, "S")
    command = ["--storage", url, "--study-name", "S", "--seeds", "2"]
    # Killed in its last rerun: the next run has nothing else to take, so it waits until the
    # killed one's heartbeat is 4 s old, then reruns it.
    settings = ["--grace", "4"]

    # Both start up first, so that the next run looks well within the grace period.
    workers = _start("confirm", command, tmp_path, ["killed", "again"],
                     extra={"killed": [*settings, "--kill-at", "4"], "again": settings})
    next_run = {"again": workers.pop("again")}
    killed = _finish(workers, tmp_path)
    assert killed["killed"][0] == -signal.SIGKILL
    again = _finish(next_run, tmp_path)

    code, out, err = again["again"]
    assert code == 0, (out, err)
    assert "Joining the workers of 'S/confirm': 3 of 4 reruns finished, 1 running." in out
    assert "Waiting for trial 3 (running in other workers" in out
    trials = optuna.load_study(study_name="S/confirm", storage=url).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3 + ["FAIL", "COMPLETE"]
    assert retried_trial(trials[4]) == 3
    assert trials[4].user_attrs["seed"] == trials[3].user_attrs["seed"] == CONFIRM_SEED_BASE + 1
    assert sorted((t.params["bn_position"], t.user_attrs["seed"]) for t in trials
                  if t.state == TrialState.COMPLETE) == sorted(
        (value, seed) for value in ("before", "after")
        for seed in (CONFIRM_SEED_BASE, CONFIRM_SEED_BASE + 1))


# Bad combinations: one line and exit code 2, nothing written; a finished step says so.


def _running_worker(url: str, step: str, record: dict[str, object], key: tuple[object, int]):
    """A rerun study as a worker running `step` leaves it mid-rerun: its record, one claim."""
    from study.storage.claims import claim_rerun
    from study.storage.reruns import candidate_key, rerun_key

    reruns = optuna.create_study(study_name=f"S/{step}", storage=open_storage(url),
                                 direction="maximize")
    reruns.set_user_attr(CONFIG_ATTR, record)
    value = "before" if step == "confirm" else SEARCH_TRIALS[key[0]][0]
    attrs = {"seed": key[1]} | ({"source_trial": key[0]} if step == "select" else {})
    return claim_rerun(reruns, key, key_of=rerun_key("bn_position") if step == "confirm"
                       else candidate_key, params={"bn_position": value},
                       distributions={"bn_position": DISTRIBUTIONS["bn_position"]},
                       user_attrs=attrs, describe=str)


def _stored(url: str, name: str) -> tuple[list[tuple[int, str]], dict[str, object]]:
    reruns = optuna.load_study(study_name=name, storage=url)
    return [(t.number, t.state.name) for t in reruns.trials], reruns.user_attrs


@pytest.mark.parametrize(("record", "argv", "message"), [
    ({"max_reruns": 4, "allocation": "equal", "pairing": "paired", "vary": "both",
      "stop": "all", "paired": True},
     ["--max-reruns", "5"],
     "`max_reruns` must be the same for every worker of 'S/confirm', but the workers "
     "running trial 0 have max_reruns=4 and this one asks for 5; start every worker of "
     "one step with the same settings, or wait until they finish."),
    ({"max_reruns": 4, "allocation": "equal", "pairing": "paired", "vary": "both",
      "stop": "all", "paired": True},
     ["--stop", "decided", "--max-reruns", "4"],
     "`stop` must be the same for every worker of 'S/confirm', but the workers running "
     "trial 0 have stop='all' and this one asks for 'decided'"),
    ({"max_reruns": 4, "allocation": "by-spread", "pairing": "unpaired", "vary": "both"},
     ["--max-reruns", "4", "--pairing", "unpaired", "--allocation", "by-spread"],
     "`allocation` 'by-spread' must run in one process only (its next rerun depends on every "
     "rerun before it), but trial 0 of 'S/confirm' is running in another worker"),
], ids=["seeds", "stop-rule", "by-spread"])
def test_a_confirm_worker_unlike_the_running_ones_is_one_line_and_writes_nothing(
        tmp_path, capsys, record, argv, message):
    from study.confirm import main

    url = f"sqlite:///{tmp_path}/bnstudy.db"
    _searched(url, "S")
    running = _running_worker(url, "confirm", record, ("before", CONFIRM_SEED_BASE))
    before = _stored(url, "S/confirm")

    code = main(["--storage", url, "--study-name", "S", *argv])

    err = capsys.readouterr().err
    running.give_up("the test ends")
    # The one error line (an old flag's spelling may add a line saying how it is spelt now).
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith("python -m study.confirm: error: ") and message in errors[0]
    assert _stored(url, "S/confirm")[1] == before[1]
    assert _stored(url, "S/confirm")[0] == [(0, "FAIL")] and before[0] == [(0, "RUNNING")]


def test_a_select_worker_with_another_top_k_than_the_running_ones_is_one_line(tmp_path, capsys):
    from study.select import main

    url = f"sqlite:///{tmp_path}/bnstudy.db"
    _searched(url, "S")
    running = _running_worker(url, "select", {"top_k": 2, "seeds": 3}, (0, SELECT_SEED_BASE))

    code = main(["--storage", url, "--study-name", "S", "--top-k", "3", "--seeds", "3"])

    err = capsys.readouterr().err
    running.give_up("the test ends")
    assert code == 2 and err.count("\n") == 1, err
    assert ("`top_k` must be the same for every worker of 'S/select', but the workers running "
            "trial 0 have top_k=2 and this one asks for 3") in err
    assert len(optuna.load_study(study_name="S/select", storage=url).trials) == 1


def test_a_worker_joining_a_finished_confirmation_says_so_and_writes_nothing(tmp_path, capsys):
    from study.confirm import main
    from study.storage.question import DEFAULT_QUESTION
    from study.storage.reruns import store_rerun

    url = f"sqlite:///{tmp_path}/bnstudy.db"
    search = _searched(url, "S")
    confirm = optuna.create_study(study_name="S/confirm", storage=url, direction="maximize")
    for seed in rerun_seeds(2):
        for source in (search.trials[0], search.trials[3]):
            store_rerun(confirm, source, seed, accuracy(source.params, seed),
                        question=DEFAULT_QUESTION, loss=0.5, seconds=0.1,
                        compiled_model="new", dtype_policy="float32")
    before = _stored(url, "S/confirm")

    assert main(["--storage", url, "--study-name", "S", "--seeds", "2"]) == 0

    assert "All 4 reruns already finished." in capsys.readouterr().out
    assert _stored(url, "S/confirm") == before
