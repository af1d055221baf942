"""budgets.md: the table per budget, the sentence on the budget, the plateau, the dirty reruns;
budgets.json: the same numbers."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.reports.budgets import (
    budget_record,
    budget_table,
    budgets_markdown,
    dependence_sentence,
    plateau_lines,
)


def test_the_table_has_a_row_per_budget_with_its_verdict_interval_pairs_and_means(families):
    table = budget_table(families["shifting"].budgets)

    assert list(table.columns) == ["epochs", "study", "verdict", "after - before", "interval",
                                   "n pairs", "selection mean, before",
                                   "selection mean, after"]
    eight, sixteen = table.to_dict("records")
    c = families["shifting"].analyses[0].comparison
    assert eight["epochs"] == 8 and eight["study"] == "`shifting`"
    assert eight["verdict"] == "matters" and sixteen["verdict"] == "equivalent"
    assert eight["after - before"] == f"{100 * c.difference:+.2f} pp"
    assert eight["interval"] == (f"[{100 * c.ci_low:+.2f}, {100 * c.ci_high:+.2f}] pp "
                                 "(anytime-valid 95%)")
    assert eight["n pairs"] == "30"
    assert (eight["selection mean, before"], sixteen["selection mean, after"]) == (
        "86.00% (3 seeds)", "87.90% (3 seeds)")


def test_budgets_json_holds_the_tables_numbers_the_sentence_and_the_plateau(families):
    import json

    family = families["shifting"]
    record = json.loads(json.dumps(budget_record(family)))  # JSON as written, no NaN

    assert record["family"] == "shifting" and record["margin"] == 0.005
    assert record["question"] == {"param": "bn_position", "reference": "before",
                                  "compared": "after"}
    assert record["dependence"] == "depends"
    assert record["sentence"] == dependence_sentence(family.budgets)
    eight, sixteen = record["members"]
    c = family.analyses[0].comparison
    assert (eight["epochs"], eight["study_name"], eight["report"]) == (8, "shifting",
                                                                       "report.md")
    assert sixteen["report"] == "epochs-16/report.md" and sixteen["verdict"] == "equivalent"
    assert (eight["difference"], eight["ci_low"], eight["ci_high"]) == pytest.approx(
        (c.difference, c.ci_low, c.ci_high))
    assert eight["interval_label"] == "anytime-valid 95%" and not eight["provisional"]
    assert eight["n_per_position"] == {"before": 30, "after": 30} and eight["paired"]
    assert eight["selection_means"] == pytest.approx({"before": 0.86, "after": 0.85})
    assert eight["selection_seeds"] == {"before": 3, "after": 3}
    assert eight["selection_finished"] and sixteen["selection_finished"]
    (step,) = record["plateau"]["steps"]
    assert (step["shorter"], step["longer"], step["doubling"], step["flat"]) == (8, 16, True,
                                                                               False)
    assert step["rises"] == pytest.approx({"before": 0.02, "after": 0.029})
    assert record["plateau"]["at"] is None
    assert record["plateau"]["reading"] == plateau_lines(family.budgets)[0]


def test_a_member_without_confirmation_reads_as_provisional(families):
    family = families["steady"].budgets
    provisional = dataclasses.replace(family.results[1], source="search",
                                      selection_means=None, selection_seeds=None)

    row = budget_table(dataclasses.replace(family, results=(family.results[0], provisional))
                       ).to_dict("records")[1]

    assert row["verdict"].endswith("(provisional, search)")
    assert row["selection mean, after"] == "no selection"


def test_the_sentence_says_the_verdict_depends_on_the_budget(families):
    assert dependence_sentence(families["shifting"].budgets) == (
        "The verdict depends on the budget: 'matters' at 8 epochs, 'equivalent' at 16.")


def test_the_sentence_says_the_verdict_does_not_depend_on_the_budget(families):
    assert dependence_sentence(families["steady"].budgets) == (
        "The verdict does not depend on the budget: 'matters' at 8 and 16 epochs.")


def _with_verdicts(family, *verdicts):
    results = tuple(dataclasses.replace(result, comparison=dataclasses.replace(
        result.comparison, verdict=verdict, difference=difference))
        for result, (verdict, difference) in zip(family.results, verdicts, strict=True))
    return dataclasses.replace(family, results=results)


@pytest.mark.parametrize(("verdicts", "sentence"), [
    ([("matters", -0.02), ("matters", 0.02)],
     "The verdict depends on the budget: 'matters' (before ahead) at 8 epochs, 'matters' "
     "(after ahead) at 16."),
    ([("matters", -0.02), ("inconclusive", -0.01)],
     "Whether the verdict depends on the budget is not settled yet: 'matters' at 8 epochs, "
     "'inconclusive' at 16."),
])
def test_opposite_leaders_depend_and_an_undecided_member_leaves_it_unsettled(
        families, verdicts, sentence):
    assert dependence_sentence(_with_verdicts(families["steady"].budgets, *verdicts)) == sentence


def test_with_one_confirmed_member_the_sentence_says_it_is_not_known(families):
    family = families["steady"].budgets
    one = dataclasses.replace(family, results=(
        family.results[0], dataclasses.replace(family.results[1], source="search")))
    none = dataclasses.replace(family, results=tuple(
        dataclasses.replace(result, source="search") for result in family.results))

    assert dependence_sentence(one) == (
        "Whether the verdict depends on the budget is not known yet: only the 8-epoch member "
        "is confirmed ('matters'); the others' verdicts are provisional, from their searches.")
    assert dependence_sentence(none).endswith("no member is confirmed (every verdict is "
                                              "provisional, from its search).")


def test_the_plateau_reading_per_pair_of_budgets(families):
    assert plateau_lines(families["shifting"].budgets) == [
        "No plateau is shown yet: no doubling of the budget raised both picks' selection means "
        "by less than 0.30 pp.", "",
        "- 8 → 16 epochs (×2): before +2.00 pp, after +2.90 pp: still rising (by +0.30 pp or "
        "more)."]
    assert plateau_lines(families["steady"].budgets) == [
        "The plateau is reached at 8 epochs: doubling to 16 raised both picks' selection means "
        "by less than 0.30 pp.", "",
        "- 8 → 16 epochs (×2): before +0.20 pp, after +0.20 pp: flat (both under +0.30 pp)."]


def test_budgets_md_lists_the_dirty_reruns_per_member_and_links_each_report(families):
    text = budgets_markdown(families["shifting"])

    assert text.startswith("# Does `bn_position` matter at every training budget? Family "
                           "`shifting`\n\n**The verdict depends on the budget: ")
    assert "[report.md](report.md), 16 epochs: [epochs-16/report.md](epochs-16/report.md)" in text
    assert "| epochs | study | verdict |" in text
    dirty = text.split("## Reruns not from a clean commit", 1)[1]
    assert "8 epochs:\n\n- `shifting/select`: 12 of 12 reruns (trials 0-11); code versions " \
           "0a1b2c3d4e5f+dirty (12)\n- `shifting/confirm`: 60 of 60 reruns (trials 0-59)" in dirty
    assert "16 epochs" not in dirty
    assert "![budgets](budgets.png)" in text
    assert "![learning curves](budget_learning_curves.png)" in text
    assert "At 8 epochs some reruns were stored before validation" in text
    assert text.count("The figure shows") == text.count("![")


def test_a_family_of_clean_reruns_says_so(families):
    text = budgets_markdown(families["steady"])

    assert text.rstrip().endswith("## Reruns not from a clean commit\n\nNone: every selection "
                                  "and confirmation rerun of the family ran from a clean commit.")
    assert "Every curve is validation accuracy." in text
