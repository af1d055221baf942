"""How much pairing the two placements' reruns by seed saves: the pairs' correlation, measured.

`study.confirm` pairs by default: rerun k of "before" and of "after" share their seeds, so at one
width they start from the same initial weights (checked here by the stored weights digests) and
see the same batches in the same order. Pairing helps only if the two reruns of a seed are
positively correlated; the first publication's 55 seed-NUMBER pairs (different widths, so no
shared weights, and another data-order seed) correlated at 0.008.

This script runs the real path at a small size: a search study with one COMPLETE trial per
placement (same learning rate and width), then `run_confirmation(..., pairing="paired")` for
`--pairs` seeds, then the analysis' paired comparison. It prints the correlation, the share of
the difference's variance pairing saved (1 - var(after - before) / (var(after) + var(before))),
and the widths of the paired and the unpaired anytime intervals on the same reruns.

    .venv/bin/python benchmarks/pairing.py [--pairs 20] [--epochs 3] [--train-size 2048]

PASS when the variance saved is positive (pairing is then the better default), MISS otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import tempfile
from pathlib import Path

import _common  # noqa: F401  (environment before TensorFlow)
from _common import machine_line, print_table, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    # 48 steps of 64 images: the smallest run that learns reliably (tests/study/test_training.py;
    # at 500 images and one epoch every rerun ended at chance, 0.1000, and nothing correlates).
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--alpha", type=float, default=0.35)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    args = parser.parse_args()

    import numpy as np
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    from analysis.findings.verdict import compare_placements
    from study.config import preset
    from study.engine.search_run import open_study
    from study.reruns.confirmation import run_confirmation
    from study.stats.sequential import confidence_sequence
    from study.storage.contract import PLACEMENTS, SCIENTIFIC_PARAM
    from study.storage.opener import open_storage
    from study.storage.reruns import confirm_study_name

    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'pairing.db'}"
        config = preset("smoke", train_size=args.train_size, val_size=500, epochs=args.epochs,
                        batch_size=args.batch_size, storage=url, study_name="pairing")
        search = open_study(config, open_storage(url), dataclasses.asdict(config),
                            scientific_param=SCIENTIFIC_PARAM)
        distributions = {SCIENTIFIC_PARAM: CategoricalDistribution(list(PLACEMENTS)),
                         "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
                         "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0])}
        for placement in PLACEMENTS:
            search.add_trial(optuna.trial.create_trial(
                params={SCIENTIFIC_PARAM: placement, "learning_rate": args.learning_rate,
                        "alpha": args.alpha}, distributions=distributions, value=0.5))
        run_confirmation(url, "pairing", args.pairs, stream=io.StringIO(), pairing="paired")
        reruns = optuna.load_study(study_name=confirm_study_name("pairing"), storage=url).trials

    by_seed = {(t.params[SCIENTIFIC_PARAM], t.user_attrs["seed"]): t for t in reruns}
    seeds = sorted({seed for _, seed in by_seed})
    before = np.array([by_seed["before", s].value for s in seeds])
    after = np.array([by_seed["after", s].value for s in seeds])
    same_weights = sum(by_seed["before", s].user_attrs["weights_digest"]
                       == by_seed["after", s].user_attrs["weights_digest"] for s in seeds)
    paired = compare_placements(before, after, paired=True, n_bootstrap=0)
    paired_cs = confidence_sequence(after, before, paired=True)
    unpaired_cs = confidence_sequence(after, before)
    print(f"{len(seeds)} pairs at alpha {args.alpha}, learning rate {args.learning_rate}, "
          f"{args.epochs} epochs of {args.train_size} images in batches of {args.batch_size}; "
          f"{same_weights} of {len(seeds)} pairs started from the same weights.")
    print_table(["", "before", "after", "after - before"], [
        ["mean test accuracy", f"{before.mean():.4f}", f"{after.mean():.4f}",
         f"{100 * (after - before).mean():+.2f} pp"],
        ["std", f"{before.std(ddof=1):.4f}", f"{after.std(ddof=1):.4f}",
         f"{(after - before).std(ddof=1):.4f}"],
    ])
    print_table(["pair correlation", "variance saved", "paired CS width", "unpaired CS width"], [
        [f"{paired.pair_correlation:+.2f}", f"{100 * paired.variance_saved:+.0f}%",
         f"{100 * (paired_cs[1] - paired_cs[0]):.2f} pp",
         f"{100 * (unpaired_cs[1] - unpaired_cs[0]):.2f} pp"]])
    print(f"{verdict(paired.variance_saved, 0.0)}: variance saved > 0 (pairing the better "
          "default)")


if __name__ == "__main__":
    main()
