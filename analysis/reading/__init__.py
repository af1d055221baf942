"""Reading a study: open its Optuna storage read-only (or take the study object) and load the
search study, its selection and its confirmation as tidy tables (`studies`) with the question
asked of it (`questions`: the one bnstudy stored, or a categorical parameter the caller names)
and what its values are (`objective`: which way is better, their units); find the members of a
family of training budgets (`budgets`). Where the data of every finding enters `analysis`. May
import `study` (the storage contract and opener); nothing of `analysis` outside `reading`.
"""
