"""exorag's evaluation suite: datasets, metrics, judges, the run harness, reports and the baseline.

``exorag eval`` and ``exorag judge`` (registered from ``evals.cli``) are the command-line views.
"""
