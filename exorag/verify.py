"""Checking an answer sentence against the evidence it cites, with the judge (``exorag.judge``).

The verdict decides what the chain does with the sentence: ``supported`` stays, ``partial`` and
``not_found`` stay flagged, ``contradicted`` is removed; a model's ``not_found`` sentence that no
evidence sentence can replace is removed too (``exorag.chain.build_answer``).
"""

from __future__ import annotations

from exorag.judge import Judge, JudgeResult


def verify_sentence(sentence: str, evidence: list[str], judge: Judge) -> JudgeResult:
    """The judge's verdict on ``sentence`` against the passages it cites."""
    if not evidence:
        return JudgeResult("not_found", 0.0)
    return judge.judge(sentence, evidence)
