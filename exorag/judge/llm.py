"""The LLM judge: asks an OpenAI-compatible chat model (the generator's own setting) whether the
evidence supports a claim.

It reads ``EXORAG_LLM_BASE_URL``, ``EXORAG_LLM_MODEL`` and ``EXORAG_LLM_API_KEY``, so any server
exorag generates with (Ollama, vLLM, a llama.cpp server, a hosted API) can also judge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from exorag.config import Settings, get_settings
from exorag.judge.base import Judge, JudgeError, JudgeResult, Verdict, best_sentence, evidence_windows

SYSTEM_PROMPT = (
    "You check scientific claims against evidence. Reply with one verdict: 'supported' if the evidence "
    "supports every part of the claim; 'contradicted' if the evidence states something the claim denies "
    "or reverses (the opposite effect, a negation, a different gene, protein, miRNA or number in the same "
    "role); 'partly' if it supports some parts and does not state the others; 'not stated' if it does "
    "not say the claim."
)
USER_PROMPT = ("Evidence:\n{evidence}\n\nClaim: {claim}\n\n"
               "Verdict (supported, contradicted, partly or not stated):")
_VERDICT = re.compile(r"\b(supported|contradict\w*|partly|partial\w*|not stated|yes|no)\b", re.IGNORECASE)
# The reply's verdict and the score it is given; "yes"/"no" from models that answer the old way.
_SCORES = {"supported": ("supported", 1.0), "yes": ("supported", 1.0), "partly": ("partial", 0.4),
           "contradicted": ("contradicted", 0.0), "not stated": ("not_found", 0.0), "no": ("not_found", 0.0)}


def parse_verdict(reply: str) -> tuple[Verdict, float]:
    """The verdict and score of the reply's first verdict word; ``not_found`` for a reply without one."""
    match = _VERDICT.search(reply)
    word = match.group(1).lower() if match else "not stated"
    word = "contradicted" if word.startswith("contradict") else "partly" if word.startswith("partial") else word
    return _SCORES[word]


class LLMJudge(Judge):
    """Scores a pair 1.0 (the model says supported), 0.4 (partly) or 0.0 (contradicted, not stated, or
    no clear answer)."""

    name = "llm"
    threshold = 0.5

    def __init__(self, settings: Settings | None = None, max_concurrency: int = 4) -> None:
        super().__init__()
        settings = settings or get_settings()
        if not settings.llm_base_url:
            raise JudgeError(
                "the llm judge needs an OpenAI-compatible server: set EXORAG_LLM_BASE_URL "
                "(e.g. http://127.0.0.1:8080/v1), EXORAG_LLM_MODEL and, if the server wants one, EXORAG_LLM_API_KEY"
            )
        from exorag.generate.llm import openai_chat_model

        self._model = openai_chat_model(settings, max_tokens=8, temperature=0.0)
        self._max_concurrency = max_concurrency

    def judge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[JudgeResult]:
        conversations = [
            [("system", SYSTEM_PROMPT), ("human", USER_PROMPT.format(evidence="\n".join(passages), claim=claim))]
            for claim, passages in items
        ]
        try:
            replies = self._model.batch(conversations, config={"max_concurrency": self._max_concurrency})
        except Exception as error:  # the OpenAI client raises many kinds; the user needs the server's word
            raise JudgeError(f"the llm judge's server at EXORAG_LLM_BASE_URL failed: {error}") from error
        results = []
        for (claim, passages), reply in zip(items, replies):
            verdict, score = parse_verdict(str(reply.content))
            windows = evidence_windows(claim, passages, keep=1)
            shown = best_sentence(claim, windows[0].text) if windows else ""
            results.append(JudgeResult(verdict, score, shown, windows[0].passage if windows else None))
        return results
