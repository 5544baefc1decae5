"""Load evaluation files: question sets (DESIGN.md's format) and labelled judge pairs.

Both are JSON Lines, one object a line. Every error names the file, the line and the field, so a
scientist can fix a hand-written file without reading a traceback.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)


class DatasetError(ValueError):
    """A dataset file that cannot be used; the message names the line and the field."""


# Reference numbers of a review start at 1.
ReferenceNumber = Annotated[StrictInt, Field(ge=1)]


class EvalItem(BaseModel):
    """One question of a question set.

    ``key_facts`` is a list of facts, each a list of accepted spellings; a fact given as a bare
    string is taken as a fact with that one spelling. ``false_premise`` marks questions built on a
    premise the corpus contradicts (answerable: the answer corrects the premise).
    """

    model_config = ConfigDict(extra="allow")

    id: StrictStr
    question: StrictStr
    answerable: StrictBool
    gold_refs: list[ReferenceNumber] = Field(default_factory=list)
    key_facts: list[list[StrictStr]] = Field(default_factory=list)
    topic: StrictStr = ""
    false_premise: StrictBool = False
    # One group of reference numbers per part of a complete answer; cited when any number of it is.
    ref_groups: list[Annotated[list[ReferenceNumber], Field(min_length=1)]] = Field(default_factory=list)
    # The gold verdict of a yes/no question.
    verdict: Literal["yes", "no", "mixed", "not_addressed"] | None = None
    # The question's shape, when the dataset gives it (else the answer's is used in reports).
    shape: StrictStr = ""

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("key_facts", mode="before")
    @classmethod
    def _bare_string_is_one_spelling(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [[fact] if isinstance(fact, str) else fact for fact in value]
        return value


class JudgePair(BaseModel):
    """One labelled (claim, evidence) pair: is the claim supported by the evidence?

    ``evidence`` may be one passage or a list of passages (read as their union).
    """

    model_config = ConfigDict(extra="allow")

    claim: StrictStr = Field(min_length=1)
    evidence: StrictStr | Annotated[list[StrictStr], Field(min_length=1)]
    label: StrictBool
    error_type: StrictStr = ""
    id: StrictStr | StrictInt | None = None
    _line: int | None = PrivateAttr(default=None)

    @field_validator("evidence", mode="before")
    @classmethod
    def _some_evidence(cls, value: Any) -> Any:
        # Checked before the union's own types, whose message would name "evidence.str" for an empty list.
        if value == [] or (isinstance(value, str) and not value.strip()):
            raise ValueError("must be a non-empty passage or list of passages")
        return value

    @property
    def line(self) -> int | None:
        """The line of the file this pair was read from."""
        return self._line

    @property
    def evidence_text(self) -> str:
        return self.evidence if isinstance(self.evidence, str) else "\n".join(self.evidence)

    @property
    def evidence_list(self) -> list[str]:
        return [self.evidence] if isinstance(self.evidence, str) else list(self.evidence)


def _describe(error: ValidationError) -> str:
    """The first problem of a validation error as ``field 'x': what is wrong``."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(object)"
    if first["type"] == "missing":
        return f"missing field '{location}'"
    received = json.dumps(first.get("input"), ensure_ascii=False, default=str)
    if len(received) > 60:
        received = received[:57] + "..."
    return f"field '{location}': {first['msg'].lower()} (got {received})"


def _read_objects(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line of a JSON Lines file."""
    try:
        # utf-8-sig: spreadsheets and Notepad write a byte-order mark. Lines end at "\n" only: a
        # U+2028 pasted from a PDF is inside a JSON string, where splitlines() would cut it.
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except FileNotFoundError as error:
        raise DatasetError(f"{path}: file not found") from error
    except IsADirectoryError as error:
        raise DatasetError(f"{path}: a folder, not a JSON Lines file") from error
    except OSError as error:
        raise DatasetError(f"{path}: cannot read ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    objects: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=_without_repeated_fields)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{path} line {number}: not valid JSON ({error.msg} at column {error.colno})") from error
        except RecursionError as error:
            raise DatasetError(f"{path} line {number}: nested too deeply to be an item") from error
        except _RepeatedField as error:
            raise DatasetError(f"{path} line {number}: field {error} is written twice (which one counts?)") from error
        if not isinstance(value, dict):
            raise DatasetError(f"{path} line {number}: expected a JSON object, got {type(value).__name__}")
        objects.append((number, value))
    if not objects:
        raise DatasetError(f"{path}: no items (the file is empty)")
    return objects


class _RepeatedField(ValueError):
    """A field written twice in one object: JSON keeps the last, and silently drops the first."""


def _without_repeated_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name in fields:
            raise _RepeatedField(repr(name))
        fields[name] = value
    return fields


def load_dataset(path: str | Path) -> list[EvalItem]:
    """Read a question set; raises DatasetError naming the line and field of the first problem.

    Checks beyond the types: ids are unique, and unanswerable items have no gold refs or key facts.
    """
    path = Path(path)
    items: list[EvalItem] = []
    first_line_of: dict[str, int] = {}
    for number, value in _read_objects(path):
        try:
            item = EvalItem.model_validate(value)
        except ValidationError as error:
            raise DatasetError(f"{path} line {number}: {_describe(error)}") from error
        misspelt = _misspelt_field(value)
        if misspelt:
            raise DatasetError(f"{path} line {number}: unknown field {misspelt[0]!r} (did you mean {misspelt[1]!r}?)")
        if item.id in first_line_of:
            raise DatasetError(f"{path} line {number}: field 'id': duplicate id {item.id!r} (first on line {first_line_of[item.id]})")
        gold = {"gold_refs": item.gold_refs, "key_facts": item.key_facts, "ref_groups": item.ref_groups,
                "verdict": item.verdict not in (None, "not_addressed")}
        if not item.answerable and any(gold.values()):
            field = next(name for name, value in gold.items() if value)
            raise DatasetError(f"{path} line {number}: field '{field}': must be empty when answerable is false")
        for position, fact in enumerate(item.key_facts, start=1):
            if not any(spelling.strip() for spelling in fact):  # a spreadsheet's empty cells
                raise DatasetError(f"{path} line {number}: field 'key_facts': fact {position} has no non-blank spelling")
        first_line_of[item.id] = number
        items.append(item)
    return items


def _misspelt_field(value: dict[str, Any]) -> tuple[str, str] | None:
    """An unknown field that is a near miss of a known one the item lacks ("gold_ref" without
    "gold_refs"), with the known one: its item would silently drop out of the metrics that field
    feeds. Other extra fields (a dataset's own notes, "question_id" beside "question") are kept."""
    lacking = [name for name in EvalItem.model_fields if name not in value]
    for name in value:
        if name not in EvalItem.model_fields and (close := difflib.get_close_matches(name, lacking, n=1, cutoff=0.8)):
            return name, close[0]
    return None


def load_judge_pairs(path: str | Path) -> list[JudgePair]:
    """Read labelled ``{"claim", "evidence", "label"[, "error_type"]}`` lines."""
    path = Path(path)
    pairs: list[JudgePair] = []
    for number, value in _read_objects(path):
        try:
            pair = JudgePair.model_validate(value)
        except ValidationError as error:
            raise DatasetError(f"{path} line {number}: {_describe(error)}") from error
        pair._line = number
        pairs.append(pair)
    return pairs
