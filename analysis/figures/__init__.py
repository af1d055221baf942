"""Drawing only: each function takes a computed finding and returns the matplotlib Axes it drew
on. May import `analysis.findings` and `study` (the question); nothing that computes or writes.
"""
