"""Errors that name the record and field, and the skip-reason report of a lenient run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class RecordError(ValueError):
    """A record the package cannot read. The message always names the record id and the field.

    >>> str(RecordError("NCT00763412", "resultsSection", "missing"))
    'NCT00763412: resultsSection: missing'
    """

    def __init__(self, record: str | None, field_name: str, message: str, reason: str | None = None):
        self.record = record or "<unknown record>"
        self.field = field_name
        self.message = message
        # A short, stable key for the report of a lenient run ("no_results", "bad_number", ...).
        self.reason = reason or "invalid"
        super().__init__(f"{self.record}: {field_name}: {message}")


@dataclass
class IngestReport:
    """What a run read, kept and skipped (with the reason counted), datatrove-style."""

    read: int = 0
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def skip(self, err: RecordError) -> None:
        key = f"{err.reason}:{err.field}"
        self.skipped[key] += 1
        self.examples.setdefault(key, str(err))

    def merge(self, other: IngestReport) -> None:
        self.read += other.read
        self.kept += other.kept
        self.skipped.update(other.skipped)
        for k, v in other.examples.items():
            self.examples.setdefault(k, v)

    def each(self, items: Iterable[T], build: Callable[[T], R], strict: bool) -> Iterator[R]:
        """``build(item)`` for every item, counted as read and kept; a :class:`RecordError` is raised when
        ``strict``, else skipped with its reason counted. Lazy, like the readers that use it.

        >>> def parse(v):
        ...     if not v.isdigit():
        ...         raise RecordError(f"row {v}", "value", "not a number")
        ...     return int(v)
        >>> rep = IngestReport()
        >>> list(rep.each(["1", "x", "3"], parse, strict=False))
        [1, 3]
        >>> rep.read, rep.kept, dict(rep.skipped)
        (3, 2, {'invalid:value': 1})
        """
        for item in items:
            self.read += 1
            try:
                out = build(item)
            except RecordError as err:
                if strict:
                    raise
                self.skip(err)
                continue
            self.kept += 1
            yield out

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def format(self) -> str:
        lines = [f"records read: {self.read}   kept: {self.kept}   skipped: {self.n_skipped}"]
        if self.skipped:
            width = max(len(k) for k in self.skipped)
            lines.append(f"  {'skip reason':<{width}}  {'count':>7}  example")
            for k, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {k:<{width}}  {n:>7}  {self.examples[k][:100]}")
        return "\n".join(lines)
