"""exorag's evaluation suite: datasets, metrics, judges, the run harness and reports.

``exorag eval`` and ``exorag pubmedqa`` (registered from ``evals.cli``) are the command-line views.
The baseline they compare with is the plain pipeline of ``exorag.pipelines``.
"""
