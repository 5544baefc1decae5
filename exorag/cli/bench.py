"""``exorag bench``: exorag against a plain LangChain RAG on generated corpora of growing size."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

errors = Console(stderr=True)


def parse_scales(text: str) -> list[int]:
    """``"1000,10000,100000"`` -> ``[1000, 10000, 100000]`` (also ``100k``, ``1_000``)."""
    scales = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        try:
            scales.append(int(float(part[:-1]) * 1000) if part.endswith("k") else int(part))
        except ValueError:
            raise typer.BadParameter(f"{part!r} is not a number of chunks", param_hint="--scales") from None
    return sorted(set(scales))


def run_bench(scales: list[int], out: Path, chroma_url: str | None = None, seed: int = 0, queries: int = 200,
              load_seconds: float = 60, users: int = 20, cache: Path | None = None, fresh_up_to: int = 1000,
              command: str = "exorag bench", embedders: list[str] | None = None,
              systems: tuple[str, ...] | None = None) -> list[dict]:
    """Measure the systems at every scale and write the outputs to ``out``; return the rows.

    exorag runs once per embedder in ``embedders`` (default: the configured one), the baseline
    with the first. Scales above ``fresh_up_to`` chunks take embeddings from (and add them to) the
    cache under ``cache`` (default ``~/.cache/exorag-bench``), one per embedder; smaller ones embed
    afresh, which is where ingest throughput is measured.
    """
    from exorag.bench.cache import DEFAULT_FOLDER, corpus_folder, embeddings_folder
    from exorag.bench.corpus import generate_corpus
    from exorag.bench.measure import Step, clear_index, measure
    from exorag.bench.report import machine, write_outputs
    from exorag.bench.systems import SYSTEMS
    from exorag.config import get_settings
    from exorag.embeddings import model_path

    started = time.perf_counter()
    cache = cache or DEFAULT_FOLDER
    settings = get_settings()
    embedders = embedders or [settings.embedder]
    runs = [(system, embedder) for system in systems or SYSTEMS for embedder in (embedders if system == "exorag" else embedders[:1])]
    run = {"command": command, "machine": machine(), "store": f"server {chroma_url}" if chroma_url else "embedded",
           "seed": seed, "queries": queries, "scales": scales, "fresh_up_to": fresh_up_to, "embedders": embedders}
    vectors = {embedder: embeddings_folder(cache, model_path(settings), embedder) for embedder in embedders}
    work = out / "work"
    rows: list[dict] = []
    served: Step | None = None
    for position, scale in enumerate(scales):
        corpus = generate_corpus(corpus_folder(cache, seed, scale), scale, seed, queries)
        queries_file = work / f"queries-{scale}.jsonl"
        queries_file.parent.mkdir(parents=True, exist_ok=True)
        queries_file.write_text("".join(json.dumps(q.__dict__) + "\n" for q in corpus.queries), encoding="utf-8")
        steps = [Step(system, scale, corpus.corpus, queries_file, work / str(scale) / f"{system}-{embedder}",
                      out / "logs", chroma_url, vectors[embedder] if scale > fresh_up_to else None, seed,
                      embedder, cache / "embedders") for system, embedder in runs]
        for step in steps:
            errors.print(f"[bold]{scale:,} chunks[/bold] {step.system} ({step.embedder}): ingest and "
                         f"{len(corpus.queries)} queries ...")
            rows.append(measure(step))
            errors.print("  " + ", ".join(f"{key} {rows[-1][key]}" for key in
                                          ("embed_chunks_per_s", "ingest_chunks_per_s", "query_embed_ms_p50",
                                           "retrieve_ms_p95", "answer_ms_p95", "recall_at_5")))
            write_outputs(rows, out, run)
        # The largest exorag index stays for the load test; the rest is scratch.
        served = steps[0] if position == len(scales) - 1 else None
        for step in steps:
            if step is not served:
                clear_index(step)

    if load_seconds > 0 and served is not None:
        from exorag.bench.load import load_test

        errors.print(f"[bold]load[/bold]: {users} users for {load_seconds:g} s on the {served.scale:,}-chunk index ...")
        questions = [q["question"] for q in map(json.loads, served.queries.read_text(encoding="utf-8").splitlines())]
        run["load"] = {"chunks": served.scale, **load_test(served, questions, out / "logs" / "serve.log", users, load_seconds)}
    if served is not None:
        clear_index(served)
    shutil.rmtree(work, ignore_errors=True)
    run["minutes"] = round((time.perf_counter() - started) / 60, 1)
    run["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    write_outputs(rows, out, run)
    return rows


def register(app: typer.Typer) -> None:
    """Add ``exorag bench`` to the command line."""

    @app.command()
    def bench(
        scales: Annotated[str, typer.Option(help="corpus sizes in chunks, comma-separated")] = "1000,10000,100000",
        out: Annotated[Path, typer.Option(help="folder for bench.json, bench.md, bench.png and logs", file_okay=False)] = Path("evals/runs/bench"),
        chroma_url: Annotated[str | None, typer.Option(help="run exorag against this Chroma server (e.g. http://127.0.0.1:8000)")] = None,
        seed: Annotated[int, typer.Option(help="seed of the generated corpora")] = 0,
        queries: Annotated[int, typer.Option(help="queries per scale and system (at least 200 for the published figures)")] = 200,
        load_seconds: Annotated[float, typer.Option(min=0, help="seconds of the UI load test (0 skips it)")] = 60,
        users: Annotated[int, typer.Option(min=1, help="concurrent users of the load test")] = 20,
        cache: Annotated[Path | None, typer.Option(help="folder for generated corpora and cached embeddings "
                                                       "(default ~/.cache/exorag-bench)")] = None,
        fresh_up_to: Annotated[int, typer.Option(min=0, help="scales up to this many chunks embed afresh; larger ones use the cache")] = 1000,
        embedders: Annotated[str | None, typer.Option(help="exorag runs once per embedder, e.g. torch,onnx-int8 "
                                                          "(default EXORAG_EMBEDDER); the baseline uses the first")] = None,
        baseline: Annotated[bool, typer.Option(help="also measure the plain LangChain RAG")] = True,
    ) -> None:
        """Benchmark exorag against a plain LangChain RAG on generated corpora: ingest, size, memory, latency, recall."""
        from exorag.bench.load import ServerNotReady
        from exorag.bench.measure import BenchStepFailed
        from exorag.embeddings import EMBEDDERS

        parsed = parse_scales(scales)
        if not parsed or min(parsed) < 8:
            raise typer.BadParameter("give scales of at least 8 chunks, e.g. 1000,10000,100000", param_hint="--scales")
        if not 1 <= queries <= min(parsed) // 4:
            raise typer.BadParameter(f"must be between 1 and {min(parsed) // 4} (a quarter of the smallest scale)",
                                     param_hint="--queries")
        chosen = [name.strip() for name in embedders.split(",")] if embedders else None
        unknown = [name for name in chosen or [] if name not in EMBEDDERS]
        if unknown or chosen == []:
            raise typer.BadParameter(f"{', '.join(unknown) or 'nothing'}: use {', '.join(EMBEDDERS)}", param_hint="--embedders")
        for folder, hint in ((out, "--out"), (cache, "--cache")):
            if folder is None:
                continue
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise typer.BadParameter(f"{folder}: cannot create the folder ({error.strerror})", param_hint=hint) from None
        if chroma_url:
            _require_chroma_server(chroma_url)
        command = "exorag " + " ".join(shlex.quote(argument) for argument in sys.argv[1:])
        try:
            run_bench(parsed, out, chroma_url, seed, queries, load_seconds, users, cache, fresh_up_to, command, chosen,
                      None if baseline else ("exorag",))
        except (BenchStepFailed, ServerNotReady) as error:
            errors.print(f"[red]error:[/red] {error}")
            raise typer.Exit(1) from None
        errors.print(f"wrote {out / 'bench.json'}, {out / 'bench.md'} and {out / 'bench.png'}")


def _require_chroma_server(url: str) -> None:
    """A usage error unless a Chroma server answers at ``url``: the bench would fail minutes in."""
    from exorag.config import Settings
    from exorag.store.chroma import StoreUnavailable, check_server

    try:
        check_server(Settings(chroma_url=url))
    except StoreUnavailable as error:
        raise typer.BadParameter(str(error), param_hint="--chroma-url") from None
