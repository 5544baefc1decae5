"""The optional reference list ``references.jsonl``: one ``{"number", "citation", "doi", ...}`` a line."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from exorag.models import Reference

REFERENCES_FILE = "references.jsonl"


class ReferenceListError(ValueError):
    """A line of references.jsonl that cannot be used; the message names the file and line."""


def load_references(path: Path) -> tuple[dict[int, Reference], list[str]]:
    """Read a references.jsonl file into ``{number: Reference}``.

    Malformed lines are skipped and reported as ``"references.jsonl line 7: ..."`` messages; a
    missing file is an empty list, since the reference list is optional.
    """
    references: dict[int, Reference] = {}
    problems: list[str] = []
    if not path.exists():
        return references, problems
    try:
        # utf-8-sig: a list saved by Excel or Notepad starts with a byte-order mark
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        return references, [f"{path.name} cannot be read: {error.strerror or error}; the reference list is not used"]
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            reference = Reference.model_validate(json.loads(line))
        except json.JSONDecodeError as error:
            problems.append(f"{path.name} line {line_number}: not valid JSON ({error.msg})")
            continue
        except RecursionError:
            problems.append(f"{path.name} line {line_number}: nested too deeply to be a reference")
            continue
        except ValidationError as error:
            fields = ", ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in error.errors()
            )
            problems.append(f"{path.name} line {line_number}: {fields}")
            continue
        references[reference.number] = reference
    return references, problems


def write_references(path: Path, references: list[Reference]) -> None:
    """Write ``references`` as JSONL, sorted by number (the file ``load_references`` reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for reference in sorted(references, key=lambda r: r.number):
            out.write(json.dumps(reference.model_dump(exclude_none=True), ensure_ascii=False) + "\n")
