"""What a literature service tells about a paper, in one shape for all of them."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class PaperRecord:
    """A paper's identifiers and the metadata that names its file; any field may be unknown."""

    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    title: str = ""
    first_author: str = ""
    year: str = ""
    journal: str = ""
    abstract: str = ""

    def fill_from(self, other: PaperRecord | None) -> None:
        """Take ``other``'s values for the fields this record does not know yet."""
        if other is None:
            return
        for item in fields(self):
            if not getattr(self, item.name) and getattr(other, item.name):
                setattr(self, item.name, getattr(other, item.name))
