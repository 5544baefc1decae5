"""Generators behind one interface: ``extractive`` (the default, no model) and ``llm``."""

from __future__ import annotations

from exorag.config import Settings
from exorag.generate.base import Draft, DraftSentence, GenerationContext, Generator


def get_generator(name: str, settings: Settings) -> Generator:
    """The generator called ``name`` ("extractive" or "llm")."""
    if name == "extractive":
        from exorag.generate.extractive import ExtractiveGenerator

        return ExtractiveGenerator(settings.min_sentence_confidence)
    if name == "llm":
        from exorag.generate.llm import get_llm_generator

        return get_llm_generator(settings)
    raise ValueError(f"generator: unknown name {name!r}; use 'extractive' or 'llm'")


__all__ = ["Draft", "DraftSentence", "GenerationContext", "Generator", "get_generator"]
