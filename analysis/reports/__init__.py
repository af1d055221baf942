"""What a reader sees: report.md (`markdown`), a family's budgets.md (`budgets`), the
dashboard's notes (`notes`), the sentences both share (`verdict_text`), the files and dashboard
artifacts (`writer`, `artifacts`). May import `analysis.study_analysis`,
`analysis.family_analysis`, `analysis.findings`, `analysis.figures`, `analysis.reading` and
`study`; never the calibration or the command line.
"""
