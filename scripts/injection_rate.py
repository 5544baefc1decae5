"""How often the injection detector flags ordinary scientific text: its false-positive rate.

Each folder's files are loaded and chunked as ``exorag ingest`` does, and every chunk is checked;
a PubMedQA JSON file (``{"id": {"CONTEXTS": [...]}}``) counts each abstract (its contexts joined).
Flagged chunks are listed with the reason, so a deliberate injection (a test's fixture) can be
told from a false positive.

Usage: python scripts/injection_rate.py [--pubmedqa FILE] [FOLDER ...]
A folder may be a corpus (its ``review/`` and ``literature/``), a review folder, or a folder
holding pytest's temporary folders (every ``literature/`` below it is read).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exorag.ingest.chunking import chunk_document
from exorag.ingest.injection import instruction_like
from exorag.ingest.loaders import LoadError, load_document, supported_extensions


def source_files(folder: Path) -> list[Path]:
    """The loadable files in ``folder`` itself if it has any, else in every ``literature/`` below it."""
    extensions = supported_extensions()
    direct = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() in extensions
              and "literature" not in p.relative_to(folder).parts[:-1]]
    nested = [p for p in sorted(folder.rglob("literature/**/*")) if p.is_file() and p.suffix.lower() in extensions]
    return [p for p in direct + nested if not p.name.lower().startswith("readme")]


def rate_of_folder(folder: Path) -> dict:
    files = chunks = unreadable = 0
    flagged: list[tuple[str, str]] = []
    for path in source_files(folder):
        try:
            document = load_document(path, max_bytes=50_000_000)
        except LoadError:
            unreadable += 1
            continue
        files += 1
        for chunk in chunk_document(document, path.name, "literature", "x", 120, 1):
            chunks += 1
            if why := instruction_like(chunk.text):
                flagged.append((str(path.relative_to(folder)), why))
    return {"source": str(folder), "files": files, "unreadable": unreadable, "chunks": chunks,
            "flagged_chunks": len(flagged), "rate": len(flagged) / chunks if chunks else 0.0, "flagged": flagged}


def rate_of_pubmedqa(path: Path) -> dict:
    items = json.loads(path.read_text(encoding="utf-8"))
    flagged = [(key, why) for key, item in items.items() if (why := instruction_like(" ".join(item["CONTEXTS"])))]
    return {"source": str(path), "abstracts": len(items), "flagged_chunks": len(flagged),
            "rate": len(flagged) / len(items) if items else 0.0, "flagged": flagged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--pubmedqa", type=Path)
    args = parser.parse_args()
    results = [rate_of_folder(folder) for folder in args.folders]
    if args.pubmedqa:
        results.append(rate_of_pubmedqa(args.pubmedqa))
    for result in results:
        counted = (f"{result['abstracts']} abstracts" if "abstracts" in result
                   else f"{result['files']} files, {result['chunks']} chunks")
        print(f"{result['source']}: {counted}, {result['flagged_chunks']} flagged, rate {result['rate']:.4f}")
        for where, why in result["flagged"]:
            print(f"    {where}: {why}")


if __name__ == "__main__":
    main()
