"""What every step of a build kept and dropped, by reason (datatrove's style of counting), for the build output and
the cards.

A funnel is an ordered list of steps; a step has a name, the number of items it kept and a Counter of the items it
dropped by reason. Reasons are short snake_case strings; a ``family:detail`` reason (``label_unknown:alpha_unclear``)
is one reason, shown whole.

>>> from collections import Counter
>>> f = Funnel("bench")
>>> f.add("posted analyses", 9600, Counter({"analysis_of_three_or_more_groups": 480}))
>>> f.add("questions", 912, Counter({"significant_direction_unknown": 270, "not_two_arms:same_arm": 40}))
>>> print(f.text())
bench                  kept  dropped  why dropped
--------------------------------------------------------------------------------------------------------
posted analyses       9,600      480  analysis_of_three_or_more_groups 480
questions               912      310  significant_direction_unknown 270, not_two_arms:same_arm 40
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Step:
    name: str
    kept: int
    dropped: Counter = field(default_factory=Counter)

    def reasons(self, limit: int | None = None) -> str:
        items = sorted(self.dropped.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = items if limit is None else items[:limit]
        text = ", ".join(f"{k} {v:,}" for k, v in shown)
        if limit is not None and len(items) > limit:
            text += f", {len(items) - limit} more"
        return text


@dataclass
class Funnel:
    name: str
    steps: list[Step] = field(default_factory=list)

    def add(self, name: str, kept: int, dropped: Counter | dict | None = None) -> None:
        self.steps.append(Step(name, int(kept), Counter({k: v for k, v in (dropped or {}).items() if v})))

    def text(self, limit: int | None = 4) -> str:
        """A plain-text table for the terminal (at most ``limit`` reasons per step, the largest first)."""
        width = max([len(self.name)] + [len(s.name) for s in self.steps])
        head = f"{self.name:<{width}}  {'kept':>10}  {'dropped':>7}  why dropped"
        lines = [head, "-" * max(len(head), 104)]
        for s in self.steps:
            lines.append(f"{s.name:<{width}}  {s.kept:>10,}  {sum(s.dropped.values()):>7,}  {s.reasons(limit)}")
        return "\n".join(lines)

    def markdown(self) -> str:
        """A Markdown table for a dataset card (every reason)."""
        lines = ["| step | kept | dropped | why dropped |", "|---|---:|---:|---|"]
        for s in self.steps:
            why = s.reasons().replace("|", "\\|") or "-"
            lines.append(f"| {s.name} | {s.kept:,} | {sum(s.dropped.values()):,} | {why} |")
        return "\n".join(lines)

    def as_dict(self) -> list[dict]:
        return [{"step": s.name, "kept": s.kept, "dropped": dict(sorted(s.dropped.items()))} for s in self.steps]
