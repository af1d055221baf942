"""Writes results/<study>/README.md from what the run stored: no number in it is typed by hand.

`python experiments/results_readme.py --storage sqlite:///results/fashion_mnist/study.db
--study-name fashion_mnist --results results/fashion_mnist --command "bash experiments/..."`

Reads the search study and its `/select` and `/confirm` studies (settings, library versions,
trial and rerun times, pruning), `steps.log` (when each step started and ended) and, once
`python -m analysis` has run, `verdict.json` (and a family's `budgets.json`). Called by the
experiment's driver when it publishes and when its run ends, so the README describes the
`study.db` beside it.
"""

from __future__ import annotations

import json
import math
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from analysis.reading.objective import ACCURACY
from analysis.reports.verdict_text import INTERVAL_LABEL, MEANING
from study.cli import OneLineParser, add_storage, add_study_name, run_command
from study.errors import UsageError
from study.storage.contract import (
    CONFIG_ATTR,
    CONFIRM_METRIC,
    CONFIRM_SUFFIX,
    PLACEMENTS,
    SCIENTIFIC_PARAM,
    SEARCH_METRIC,
    SELECT_SUFFIX,
)
from study.storage.heartbeat import retried_trial
from study.storage.opener import load_study, load_study_if_any, open_storage

PROG = "python experiments/results_readme.py"

BLOG = {"before": 0.8281, "after": 0.8203}  # the blog's single runs, untuned, one seed each
# How every README this script writes starts its first paragraph: one without it was written by
# someone else, and is not overwritten.
MARKER = "Written by `experiments/results_readme.py`"


def _machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (f"`nproc` = {os.cpu_count()}, CPU \"{model}\", {pages / 2**30:.0f} GiB memory, "
            f"{platform.system()} {platform.machine()}, no GPU")


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _trial_seconds(trial: FrozenTrial) -> float:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return 0.0
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def _pruning_check(pruned: list[FrozenTrial], complete: list[FrozenTrial]) -> list[str]:
    """Whether pruning stopped a trial that was ahead of its placement's eventual best."""
    if not pruned or not complete:
        return []
    ahead = []
    for trial in pruned:
        own = [t for t in complete
               if t.params.get(SCIENTIFIC_PARAM) == trial.params.get(SCIENTIFIC_PARAM)]
        if not own:
            continue
        best = max(own, key=lambda t: t.value)
        step = trial.last_step
        if best.intermediate_values.get(step, float("inf")) < trial.intermediate_values[step]:
            ahead.append(trial.number)
    return [f"Of the {len(pruned)} pruned trials, {len(ahead)} "
            f"{'was' if len(ahead) == 1 else 'were'} ahead of their placement's best COMPLETE "
            f"trial at the epoch they were stopped{' (' + str(ahead) + ')' if ahead else ''}. "
            "Confirmation reruns only COMPLETE trials, so a pruned configuration cannot win "
            "there; this count is how often pruning could have cost the winner."]


def _failures(trials: list[FrozenTrial]) -> str:
    """How many trials failed, and how many of those were cut off and trained again."""
    failed = [t.number for t in trials if t.state == TrialState.FAIL]
    retried = {retried_trial(t) for t in trials}
    again = [n for n in failed if n in retried]
    text = f"{len(failed)} FAIL"
    if again:
        text += (f" ({len(again)} of them cut off before their end, e.g. by the end of a "
                 "session, and trained again with the same parameters)")
    return text


def _search_section(study: optuna.Study) -> list[str]:
    config = study.user_attrs.get(CONFIG_ATTR, {})
    trials = study.get_trials(deepcopy=False)
    states = {state: [t for t in trials if t.state == state] for state in TrialState}
    finished = states[TrialState.COMPLETE] + states[TrialState.PRUNED]
    epochs = config.get("epochs", 0)
    run_epochs = sum(t.last_step or 0 for t in trials if t.state != TrialState.RUNNING)
    lines = [
        "## Search",
        "",
        f"{len(finished)} trials finished, {len(states[TrialState.COMPLETE])} COMPLETE and "
        f"{len(states[TrialState.PRUNED])} PRUNED (the study was created for "
        f"{config.get('n_trials')}); {_failures(trials)}, "
        f"{len(states[TrialState.RUNNING])} RUNNING when this copy was made.",
        f"Time in trials: {_hours(sum(_trial_seconds(t) for t in trials))} "
        "(sum of each trial's start to end, failed trials included).",
    ]
    if finished and epochs:
        lines.append(
            f"Pruning: {run_epochs} epochs run of the {len(finished) * epochs} that the "
            f"{len(finished)} finished trials would have run without it "
            f"({run_epochs / (len(finished) * epochs):.0%}).")
        lines += _pruning_check(states[TrialState.PRUNED], states[TrialState.COMPLETE])
    lines += ["", f"| trial | state | {SCIENTIFIC_PARAM} | learning_rate | alpha | "
              "val_accuracy | epochs | minutes | model |", "|---|---|---|---|---|---|---|---|---|"]
    for t in sorted(finished, key=lambda t: t.number):
        lines.append(
            f"| {t.number} | {t.state.name} | {t.params.get(SCIENTIFIC_PARAM)} | "
            f"{t.params.get('learning_rate', float('nan')):.4g} | {t.params.get('alpha')} | "
            f"{t.value:.4f} | {t.last_step} | {_trial_seconds(t) / 60:.1f} | "
            f"{t.user_attrs.get('compiled_model', '')} |")
    return lines


def _confirm_section(confirm: optuna.Study | None) -> list[str]:
    if confirm is None:
        return ["## Confirmation", "", "Not started yet."]
    record = confirm.user_attrs.get(CONFIG_ATTR, {})
    reruns = confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    total = len(record.get("seeds", [])) * len(PLACEMENTS)
    if record.get("allocation", "equal") == "equal":
        finished = f"{len(reruns)} of {total} reruns finished"
    else:  # study.reruns.allocation: counts follow the spreads, `total` is only the most
        counts = ", ".join(f"{sum(t.params.get(SCIENTIFIC_PARAM) == p for t in reruns)} {p}"
                           for p in PLACEMENTS)
        finished = (f"{len(reruns)} reruns finished ({counts}; allocated by spread, at most "
                    f"{total})")
    lines = ["## Confirmation", "",
             f"{finished}: {_picks(record)} retrained with "
             f"{_seed_range(record.get('seeds', []))} on "
             f"{record.get('train_images')} training images and tested once on "
             f"{record.get('test_images')} test images. Time in training: "
             f"{_training_time(reruns)}."
             f"{_stop_rule(record)}", ""]
    return lines + _rerun_table(reruns, CONFIRM_METRIC)


def _training_time(reruns: list[FrozenTrial]) -> str:
    """The reruns' summed training time (each rerun's `fit`, without start-up or evaluation)."""
    return _hours(sum(t.user_attrs.get("train_seconds", 0.0) for t in reruns))


def _rerun_table(reruns: list[FrozenTrial], metric: str) -> list[str]:
    """One row per rerun: placement, the search trial it retrains, seed, score, train time."""
    lines = [f"| placement | trial | seed | {metric} | train minutes |", "|---|---|---|---|---|"]
    for t in sorted(reruns, key=lambda t: (str(t.params.get(SCIENTIFIC_PARAM)),
                                           t.user_attrs.get("source_trial", -1),
                                           t.user_attrs.get("seed", -1))):
        lines.append(f"| {t.params.get(SCIENTIFIC_PARAM)} | {t.user_attrs.get('source_trial')} "
                     f"| {t.user_attrs.get('seed')} | {t.value:.4f} | "
                     f"{t.user_attrs.get('train_seconds', 0.0) / 60:.1f} |")
    return lines


def _selection_section(select: optuna.Study | None) -> list[str]:
    """The selection step (`python -m study.select`): what it reran, and what that cost."""
    if select is None:
        return ["## Selection", "", "No selection study: each placement's best search trial "
                "is the one confirmed."]
    record = select.user_attrs.get(CONFIG_ATTR, {})
    reruns = select.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    candidates = record.get("candidates") or {}
    seeds = int(record.get("seeds", 0))
    trials = "; ".join(f"{p}: {', '.join(map(str, found))}" for p, found in candidates.items())
    total = sum(len(found) for found in candidates.values()) * seeds
    used = sorted({t.user_attrs["seed"] for t in reruns if "seed" in t.user_attrs})
    seed_text = f"seeds {used[0]} to {used[-1]}" if used else "no seeds yet"
    return ["## Selection", "",
            f"{len(reruns)} of {total or '?'} reruns finished: each placement's top "
            f"{record.get('top_k', '?')} search trials ({trials or 'not recorded'}) retrained "
            f"with {seeds} seeds each ({seed_text}) on {record.get('train_images')} training "
            f"images and scored on {record.get('val_images')} validation images; the pick is "
            f"the best mean ([report.md](report.md) sets each candidate's search value beside "
            f"its reruns). Time in training: {_training_time(reruns)}.", ""
            ] + _rerun_table(reruns, SEARCH_METRIC)


def _stop_rule(record: dict) -> str:
    """The stop rule the last confirmation run was given, if it was given one."""
    if record.get("stop") == "decided":
        return (f" Reruns stop at the first after which the anytime-valid 95% interval of "
                f"after - before decides \"matters\" or \"equivalent\" at a margin of "
                f"\N{PLUS-MINUS SIGN}{100 * record['margin']:.2f} pp, each placement having at "
                f"least {record['minimum']} (`--stop decided`), or at the most seeds above.")
    stop_at_half_width = record.get("stop_at_half_width")
    if stop_at_half_width is None:
        return ""
    return (f" Reruns stop at the first that brings the 95% interval of after - before to "
            f"\N{PLUS-MINUS SIGN}{100 * stop_at_half_width:.2f} pp or less "
            f"(`--stop-at-half-width {stop_at_half_width}`).")


def _seed_range(seeds: list[int]) -> str:
    """The seeds a confirmation may use, as a range: each placement takes them in order."""
    if not seeds:
        return "no seeds yet"
    return f"seeds {min(seeds)} to {max(seeds)} ({len(seeds)} per placement at most)"


def _picks(record: dict) -> str:
    """"the selection's picks (before: trial 20, after: trial 13)" from a confirm record."""
    trials = record.get("source_trials") or {}
    whose = ("the selection's picks" if "selection" in str(record.get("picked_by", ""))
             else "each placement's best search trial")
    return f"{whose} ({', '.join(f'{p}: trial {n}' for p, n in trials.items())})"


def _compared_label(source: str) -> str:
    """What the verdict compared: test accuracy of reruns, or (provisional) the search's top
    trials' validation accuracy."""
    return ("confirmed test accuracy" if source == "confirm"
            else "validation accuracy of the top search trials")


def _verdict_section(verdict_path: Path, study: optuna.Study) -> list[str]:
    if not verdict_path.is_file():
        return ["## Result", "", "None yet: `python -m analysis` runs when search and "
                "confirmation have finished; its `report.md`, `verdict.json`, `trials.csv` and "
                "figures will then sit beside this file."]
    verdict = json.loads(verdict_path.read_text())
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    best = {p: max((t.value for t in complete if t.params.get(SCIENTIFIC_PARAM) == p),
                   default=float("nan")) for p in PLACEMENTS}
    mean, std, n = verdict["mean"], verdict["std"], verdict["n_per_position"]
    interval = verdict.get("interval", "welch")  # verdicts written before it were Welch's
    welch = ("" if interval != "anytime" else
             f"; Welch's fixed-n 95% CI, for comparison: [{verdict['welch_ci_low'] * 100:+.2f}, "
             f"{verdict['welch_ci_high'] * 100:+.2f}] pp")
    lines = ["## Result", "", "| | BN before ReLU6 | BN after ReLU6 |", "|---|---|---|",
             f"| blog, one untuned run each | {BLOG['before']:.2%} | {BLOG['after']:.2%} |",
             f"| best validation accuracy in the search | {best['before']:.2%} | "
             f"{best['after']:.2%} |",
             f"| {_compared_label(verdict['source'])}, mean ± std ({verdict['source']}) | "
             f"{mean['before']:.2%} ± {std['before']:.2%} (n = {n['before']}) | "
             f"{mean['after']:.2%} ± {std['after']:.2%} (n = {n['after']}) |", "",
             f"Difference after − before: {verdict['difference'] * 100:+.2f} pp, "
             f"{INTERVAL_LABEL[interval]} CI "
             f"[{verdict['ci_low'] * 100:+.2f}, {verdict['ci_high'] * 100:+.2f}] pp (half-width "
             f"{(verdict['ci_high'] - verdict['ci_low']) * 50:.2f} pp){welch}; margin "
             f"± {verdict['margin'] * 100:.2f} pp; verdict: **{verdict['verdict']}**: "
             f"{MEANING[verdict['verdict']]}. The full argument is in [report.md](report.md)."]
    return lines


def _budgets_section(record_path: Path) -> list[str]:
    """The answer at each training budget, from the family's budgets.json (`python -m analysis
    --budgets`); nothing for a study that is not the first of a family."""
    if not record_path.is_file():
        return []
    record = json.loads(record_path.read_text())
    question = record["question"]
    reference, compared = question["reference"], question["compared"]
    lines = ["## The answer at each training budget", "", f"**{record['sentence']}**", "",
             f"| epochs | verdict | {compared} − {reference} | interval | n per value | "
             f"selection mean, {reference} | selection mean, {compared} |",
             "|---|---|---|---|---|---|---|"]
    for member in record["members"]:
        verdict = member["verdict"] + (" (provisional, from the search)"
                                       if member["provisional"] else "")
        # null: an end the data did not bound; the family's studies are accuracy fractions.
        low = -math.inf if member["ci_low"] is None else member["ci_low"]
        high = math.inf if member["ci_high"] is None else member["ci_high"]
        interval = ACCURACY.interval(low, high)
        means = []
        for value in (reference, compared):
            found = (member["selection_means"] or {}).get(str(value))
            means.append("no selection" if found is None else
                         f"{found:.2%} ({member['selection_seeds'][str(value)]} seeds"
                         f"{'' if member['selection_finished'] else ', running'})")
        counts = member["n_per_position"]
        lines.append(f"| [{member['epochs']}]({member['report']}) | {verdict} | "
                     f"{member['difference'] * 100:+.2f} pp | {interval} "
                     f"({member['interval_label']}) | {counts[str(reference)]}, "
                     f"{counts[str(compared)]} | {means[0]} | {means[1]} |")
    pending = "; ".join(f"{member['epochs']} epochs ({member['reason'].rstrip('.')})"
                        for member in record.get("pending", []))
    lines += ["", f"Not analysed yet: {pending}."] if pending else []
    lines += ["", record["plateau"]["reading"], "", "![budgets](budgets.png)", "",
              f"Margin ± {record['margin'] * 100:.2f} pp. A provisional verdict compares the "
              "search's top trials, not reruns; only confirmed verdicts are compared across "
              "budgets. The whole reading, with the learning curves: [budgets.md](budgets.md)."]
    return lines


def readme(storage: str, study_name: str, results: Path, command: str,
           history: Path | None = None) -> str:
    """The README's text for the study `study_name` in `storage`, then `history` if given
    (a hand-written account of the run, copied as it is).

    Raises:
        StorageError: for a storage that is missing, not Optuna's, or lacks the study.
    """
    opened = open_storage(storage, read_only=True)
    study = load_study(opened, study_name)
    confirm = load_study_if_any(opened, study_name + CONFIRM_SUFFIX)
    select = load_study_if_any(opened, study_name + SELECT_SUFFIX)
    config = study.user_attrs.get(CONFIG_ATTR, {})
    steps = results / "steps.log"
    versions = ", ".join(f"{k} {v}" for k, v in config.get("versions", {}).items())
    settings = {k: config.get(k) for k in ("preset", "dataset", "image_size", "train_size",
                                           "val_size", "epochs", "batch_size", "n_trials",
                                           "sampler", "pruner", "seed", "augment")}
    lines = [
        f"# BN placement in MobileNetV2: the study `{study_name}`", "",
        f"{MARKER} at "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC from `study.db` beside it; nothing in this "
        "folder is edited by hand.", "",
        "## How to run it, or resume it", "", "```bash", command, "```", "",
        "Running it again resumes what it runs where it stopped (`python -m study.run` "
        "resumes at the step and rerun; `python -m analysis` only reads) and rewrites this "
        "folder from the storage.",
        "", "## Settings", "", ", ".join(f"{k} = {v}" for k, v in settings.items()) + ".", "",
        f"Machine: {_machine()}. Libraries: {versions}.", "",
    ]
    lines += _verdict_section(results / "verdict.json", study) + [""]
    budgets = _budgets_section(results / "budgets.json")
    lines += budgets + ([""] if budgets else [])
    lines += _search_section(study) + [""] + _selection_section(select) + [""]
    lines += _confirm_section(confirm) + [""]
    lines += ["## Steps (`steps.log`)", "", "```"]
    lines += steps.read_text().splitlines() if steps.is_file() else ["(none yet)"]
    lines += ["```", ""]
    if history is not None:
        # One heading level down: the README's own title is the only `# ` heading.
        lines += ["#" + line if line.startswith("#") else line
                  for line in history.read_text().rstrip("\n").splitlines()] + [""]
    return "\n".join(lines)


def check_ours(path: Path) -> None:
    """Refuses to overwrite a README.md that this script did not write.

    Raises:
        UsageError: when `path` exists without `MARKER` before its first section.
    """
    if not path.exists():
        return
    head = path.read_text(errors="replace").split("\n## ", 1)[0]
    if MARKER not in head:
        raise UsageError(f"`--results` must hold no README.md or one written by this script "
                         f"(starting {MARKER!r}), but {str(path)!r} was written by someone "
                         "else; move it away to write one here.")


def main(argv: list[str] | None = None) -> int:
    """Writes README.md into --results; exit code 2 with one line for a user mistake."""

    def write() -> str:
        parser = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
        add_storage(parser, default=None, required=True,
                    help="the Optuna storage URL of the published study (its snapshot)")
        add_study_name(parser)
        parser.add_argument("--results", type=Path, required=True)
        parser.add_argument("--command", required=True, help="the command that runs the study")
        parser.add_argument("--history", type=Path,
                            help="a hand-written account of the run, copied at the end")
        args = parser.parse_args(argv)
        if not args.results.is_dir():
            raise UsageError(f"`--results` must be an existing folder, but got "
                             f"{str(args.results)!r}.")
        if args.history is not None and not args.history.is_file():
            raise UsageError(f"`--history` must be an existing file, but got "
                             f"{str(args.history)!r}.")
        check_ours(args.results / "README.md")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        text = readme(args.storage, args.study_name, args.results, args.command,
                      args.history)
        temporary = args.results / "README.md.tmp"
        temporary.write_text(text)
        temporary.replace(args.results / "README.md")
        return f"Wrote {args.results / 'README.md'}"

    return run_command(write, PROG)


if __name__ == "__main__":
    raise SystemExit(main())
