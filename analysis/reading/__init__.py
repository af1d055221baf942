"""Reading a study: open its Optuna storage read-only and load the search study, its selection
and its confirmation as tidy tables with the study's question; find the members of a family of
training budgets (`budgets`). Where the data of every finding enters `analysis`. May import
`study` (the storage contract and opener); nothing of `analysis`.
"""
