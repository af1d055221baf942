"""Calibrating the method, not analysing a study: synthetic studies with a known truth written
through the search's own writers (`simulate`; `family` for a family of training budgets), and
simulated confirmations looked at after every rerun through the loop `study.confirm` runs
(`peeking`), whose error rates benchmarks/README.md quotes. May import `analysis.findings` and
`study`; nothing imports it but the tests.
"""
