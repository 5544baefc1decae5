"""The LLM judge: asks an OpenAI-compatible chat model (the generator's own setting) whether the
evidence supports a claim.

It reads ``EXORAG_LLM_BASE_URL``, ``EXORAG_LLM_MODEL`` and ``EXORAG_LLM_API_KEY``, so any server
exorag generates with (Ollama, vLLM, a llama.cpp server, a hosted API) can also judge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from exorag.config import Settings, get_settings
from exorag.judge.base import Judge, JudgeError, JudgeResult, best_sentence, evidence_windows

SYSTEM_PROMPT = (
    "You check scientific claims against evidence. Reply with one word: 'yes' if the evidence "
    "fully supports every part of the claim, 'no' otherwise (for example when the evidence names "
    "a different gene, protein, miRNA or number, states the opposite effect, negates the claim, "
    "or does not say it)."
)
USER_PROMPT = "Evidence:\n{evidence}\n\nClaim: {claim}\n\nDoes the evidence fully support the claim? Answer yes or no."
_VERDICT = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def parse_verdict(reply: str) -> float:
    """1.0 when the reply's first yes/no word is ``yes``; 0.0 for ``no`` or a reply without one."""
    match = _VERDICT.search(reply)
    return 1.0 if match and match.group(1).lower() == "yes" else 0.0


class LLMJudge(Judge):
    """Scores a pair 1.0 (the model says yes) or 0.0 (no, or no clear answer)."""

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

        self._model = openai_chat_model(settings, max_tokens=5, temperature=0.0)
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
            score = parse_verdict(str(reply.content))
            windows = evidence_windows(claim, passages, keep=1)
            shown = best_sentence(claim, windows[0].text) if windows else ""
            results.append(JudgeResult("supported" if score >= self.threshold else "not_found", score, shown,
                                       windows[0].passage if windows else None))
        return results
