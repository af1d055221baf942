"""Drawing only: each function takes a computed finding and returns the matplotlib Axes it drew
on (`plots` for one study, `budget_plots` for a family of training budgets). May import
`analysis.findings`, `analysis.reading` (what the values are: `objective`) and `study` (the
question); nothing that computes or writes.
"""
