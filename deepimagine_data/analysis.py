"""``deepimagine analyze traces``: which factors a reasoning trace invokes, and how accuracy goes with them.

DeepImagine (arXiv 2604.23054) reads the learned reasoning for interpretable signals: when a model explains a
counterfactual transition, does it talk about dose, the population, geography, the outcome's definition or the
mechanism, and is it right more often when it does? This module answers that for any set of traces:

- the ``traces`` config of ``deepimagine/pairs`` (teacher traces, all verified, so their accuracy is 1 by
  construction: read the invocation shares, and the on-factor rate — whether a trace names the factor that changed);
- the attempts log ``deepimagine traces`` writes (every try, kept or rejected: here accuracy means something);
- lm-eval ``--log_samples`` files of ``deepimagine_pairs`` (a model's own reasoning on held-out pairs);
- any JSONL with a text (``trace``/``text``/``output``/``completion``) and either ``correct`` or ``answer_index``
  plus ``options``.

Factors are found with a fixed lexicon (:data:`FACTORS`, word-boundary regexes, case-insensitive), versioned as
:data:`LEXICON_VERSION`; a trace invokes a factor when any of its patterns matches. Correctness is the decision's
unique argmax against the known answer (:func:`deepimagine_data.scoring.decision.parse_decision`; a tie or an
unreadable decision is wrong).

Example (a real-looking trace of the strict dose pair ``NCT00299104 2 mg/kg vs 5 mg/kg``):

>>> factors_in("Raising the dose from 2 to 5 mg/kg increases exposure, so PFS improves; DECISION: (0.8, 0.2)")
('dose',)

Citation: DeepImagine: Predicting clinical trial outcomes by counterfactual imagining, arXiv 2604.23054 (2026).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import RecordError
from .pairs.factors import changed_factors_of
from .scoring.decision import parse_decision

LEXICON_VERSION = "factors-v1"

# Each factor's patterns name the factor itself, not the words every trace uses ("patients", "trial", "arm"), so a
# share means something. Kept deliberately small and readable; a new lexicon is a new LEXICON_VERSION.
FACTORS: dict[str, tuple[str, ...]] = {
    "dose": (
        r"dos(?:e|es|ed|ing|age)",
        r"\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|iu|units?)(?:/(?:m2|m\^2|kg|day|d))?",
        r"mg/(?:m2|m\^2|kg)",
        r"titrat\w*",
        r"exposure",
        r"dose[- ]response",
    ),
    "population": (
        r"population",
        r"eligib\w*",
        r"inclusion criteria",
        r"exclusion criteria",
        r"(?:older|elderly|younger|pediatric|paediatric|adult) (?:patients|participants|adults|population)",
        r"age[ds]?",
        r"subgroups?",
        r"baseline characteristics",
        r"performance status",
        r"ecog",
        r"(?:first|second|third)[- ]line",
        r"prior (?:therapy|therapies|treatment|treatments|chemotherapy|lines?)",
        r"refractory",
        r"treatment[- ]na(?:ï|i)ve",
        r"comorbidit\w*",
        r"disease stage",
        r"stage (?:i{1,3}v?|iv|[1-4])[abc]?",
    ),
    "geography": (
        r"geograph\w*",
        r"countr(?:y|ies)",
        r"regions?",
        r"regional",
        r"asian?",
        r"europe(?:an)?",
        r"north america(?:n)?",
        r"united states",
        r"china|chinese|japan(?:ese)?|korea(?:n)?",
        r"multinational|multi-national|international",
        r"ethnic\w*",
    ),
    "outcome definition": (
        r"end ?points?",
        r"outcome (?:measure|definition)s?",
        r"primary outcome",
        r"secondary outcome",
        r"time ?frame",
        r"time ?points?",
        r"surrogate",
        r"defined as",
        r"definition",
        r"recist",
        r"follow-up",
        r"(?:overall|progression-free|disease-free|event-free) survival",
        r"(?:objective |overall )?response rate",
    ),
    "mechanism": (
        r"mechanism\w*",
        r"mode of action",
        r"pathways?",
        r"receptors?",
        r"inhibit\w*",
        # "target" alone is the trial to predict in every prompt of the package; only the pharmacological senses count
        r"targeted",
        r"targeting",
        r"(?:molecular|drug|therapeutic) targets?",
        r"pharmaco(?:dynamic|kinetic)s?",
        r"kinase",
        r"antibod(?:y|ies)",
        r"immun\w*",
        r"cytotoxic\w*",
        r"synerg\w*",
        r"resistance",
        r"biolog(?:y|ical|ically)",
    ),
}
_COMPILED = {f: re.compile(r"(?<![\w-])(?:" + "|".join(p) + r")(?![\w-])", re.I) for f, p in FACTORS.items()}
# The decision line carries numbers like "0.8": it is not reasoning, and must not count as a dose.
_DECISION_LINE = re.compile(r"^\W*decision\W.*$", re.I | re.M)

# A pair's changed factor (strict `changed_factor`, approx `changed_factors`) -> the lexicon factor that names it.
CHANGED_TO_FACTOR = {
    "dose": "dose",
    "outcome": "outcome definition",
    "population": "population",
    "geography": "geography",
    "intervention": "mechanism",
}


def factors_in(text: str) -> tuple[str, ...]:
    """The lexicon factors ``text`` invokes, in :data:`FACTORS` order (the decision line is ignored).

    >>> factors_in("Asian patients in the first-line setting; the endpoint is overall survival.")
    ('population', 'geography', 'outcome definition')
    """
    body = _DECISION_LINE.sub(" ", text or "")
    return tuple(f for f, rx in _COMPILED.items() if rx.search(body))


@dataclass(frozen=True)
class Trace:
    """One reasoning text with what is known about it. ``correct`` is None when the answer is unknown."""

    text: str
    correct: bool | None
    kind: str
    changed: tuple[str, ...] = ()
    source: str = ""
    record: str = ""

    @property
    def factors(self) -> tuple[str, ...]:
        return factors_in(self.text)


def _correct(text: str, options: Sequence[str] | None, answer_index: int | None) -> bool | None:
    if answer_index is None or not options:
        return None
    return parse_decision(text, len(options)).decided() == int(answer_index)


def _text_of(row: dict, where: str) -> str:
    for key in ("trace", "text", "output", "response", "completion"):
        v = row.get(key)
        if isinstance(v, str):
            return v
    raise RecordError(where, "text", "no text field (one of trace, text, output, response, completion)")


def _from_row(row: dict, where: str, source: str) -> Trace:
    if "doc" in row and ("resps" in row or "filtered_resps" in row):  # an lm-eval sample
        doc = row["doc"]
        resps = row.get("resps") or row.get("filtered_resps")
        text = resps[0][0] if resps and isinstance(resps[0], list) else resps[0]
        if not isinstance(text, str):
            raise RecordError(where, "resps", "no generated text (a log-likelihood task has no reasoning to read)")
        kind = str(doc.get("config") or doc.get("category") or "unknown")
        key = str(doc.get("question_id") or doc.get("outcome_measure") or row.get("doc_id", ""))
        return Trace(text, _correct(text, doc.get("options"), doc.get("answer_index")), kind, (), source, key)
    text = _text_of(row, where)
    correct = row.get("correct")
    if correct is None:
        correct = _correct(text, row.get("options"), row.get("answer_index"))
    kind = str(row.get("config") or row.get("kind") or "unknown")
    key = str(row.get("pair_id") or row.get("id") or "")
    return Trace(text, None if correct is None else bool(correct), kind, changed_factors_of(row), source, key)


def _parquet_rows(path: Path) -> Iterable[dict]:
    import pyarrow.parquet as pq

    yield from pq.read_table(path).to_pylist()


def _traces_files(path: Path) -> list[Path]:
    """The ``traces`` config's parquet files under a pairs dataset folder or a hub root."""
    for folder in (path / "traces", path / "deepimagine" / "pairs" / "traces", path / "pairs" / "traces"):
        files = sorted(folder.glob("*.parquet"))  # every split the traces config has (one per source split)
        if files:
            return files
    raise FileNotFoundError(
        f"{path}: no traces config (looked for traces/*.parquet in it, in deepimagine/pairs and in pairs); "
        "run `deepimagine traces ...` first"
    )


def read_traces(paths: Sequence[str | os.PathLike]) -> list[Trace]:
    """Every trace in ``paths``: dataset folders / hub roots (their ``traces`` config), parquet or JSONL files."""
    out: list[Trace] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in _traces_files(p):
                out += [_from_row(r, f"{f} row {i}", str(f)) for i, r in enumerate(_parquet_rows(f))]
        elif p.suffix == ".parquet":
            out += [_from_row(r, f"{p} row {i}", str(p)) for i, r in enumerate(_parquet_rows(p))]
        elif p.is_file():
            with p.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise RecordError(f"{p} line {n}", "line", f"not JSON ({e.msg})") from None
                    if not isinstance(row, dict):
                        raise RecordError(f"{p} line {n}", "line", "expected a JSON object")
                    if row.get("reason") == "http_error" and row.get("text") is None:
                        continue  # a request that failed (`traces --attempts` lists them): no text to analyze
                    out.append(_from_row(row, f"{p} line {n}", str(p)))
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    if not out:
        raise RecordError(", ".join(map(str, paths)), "traces", "no traces found")
    return out


@dataclass
class Analysis:
    """The figures ``analyze traces`` prints: per factor, per kind, and per kind x factor."""

    n: int
    scored: int
    accuracy: float | None
    factors: list[dict]
    kinds: list[dict]
    on_factor: list[dict]


def _acc(items: Sequence[Trace]) -> float | None:
    known = [t.correct for t in items if t.correct is not None]
    return sum(known) / len(known) if known else None


def analyze(traces: Sequence[Trace]) -> Analysis:
    """Invocation share and accuracy per factor, accuracy and invocation shares per kind, and the on-factor rate
    (share of traces of pairs whose changed factor maps to a lexicon factor that name that factor)."""
    found = [(t, set(t.factors)) for t in traces]
    factors = []
    for f in FACTORS:
        yes = [t for t, fs in found if f in fs]
        no = [t for t, fs in found if f not in fs]
        factors.append(
            {
                "factor": f,
                "traces": len(yes),
                "share": len(yes) / len(found) if found else 0.0,
                "accuracy_invoked": _acc(yes),
                "accuracy_not_invoked": _acc(no),
            }
        )
    kinds = []
    for kind in sorted({t.kind for t in traces}):
        items = [(t, fs) for t, fs in found if t.kind == kind]
        row = {"kind": kind, "traces": len(items), "accuracy": _acc([t for t, _ in items])}
        for f in FACTORS:
            row[f] = sum(f in fs for _, fs in items) / len(items)
        kinds.append(row)
    on_factor = []
    for changed, f in CHANGED_TO_FACTOR.items():
        items = [(t, fs) for t, fs in found if changed in t.changed]
        if items:
            on_factor.append(
                {
                    "changed": changed,
                    "factor": f,
                    "traces": len(items),
                    "names_it": sum(f in fs for _, fs in items) / len(items),
                    "accuracy": _acc([t for t, _ in items]),
                }
            )
    scored = sum(t.correct is not None for t in traces)
    return Analysis(len(traces), scored, _acc(traces), factors, kinds, on_factor)


def _f(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.1f}%" if pct else f"{x:.3f}"


def format_analysis(a: Analysis) -> str:
    """The tables as plain text (``--json`` gives the same figures as one JSON document)."""
    acc = "-" if a.accuracy is None else f"{a.accuracy:.3f} over {a.scored:,} with a known answer"
    lines = [f"{a.n:,} traces; accuracy {acc}; lexicon {LEXICON_VERSION}", ""]
    head = f"{'factor':<19} {'traces':>7} {'share':>7} {'acc. invoked':>13} {'acc. not':>9}"
    lines += [head, "-" * len(head)]
    for r in a.factors:
        lines.append(
            f"{r['factor']:<19} {r['traces']:>7,} {_f(r['share'], True):>7} {_f(r['accuracy_invoked']):>13} "
            f"{_f(r['accuracy_not_invoked']):>9}"
        )
    short = {"dose": "dose", "population": "popul.", "geography": "geogr.", "outcome definition": "outcome",
             "mechanism": "mechan."}  # fmt: skip
    head = f"{'kind':<16} {'traces':>7} {'accuracy':>8} " + " ".join(f"{short[f]:>8}" for f in FACTORS)
    lines += ["", "share of traces invoking each factor, by pair kind", head, "-" * len(head)]
    for r in a.kinds:
        lines.append(
            f"{r['kind']:<16} {r['traces']:>7,} {_f(r['accuracy']):>8} "
            + " ".join(f"{_f(r[f], True):>8}" for f in FACTORS)
        )
    if a.on_factor:
        head = f"{'changed factor':<15} {'named as':<19} {'traces':>7} {'names it':>8} {'accuracy':>8}"
        lines += ["", "does a trace name the factor that changed?", head, "-" * len(head)]
        for r in a.on_factor:
            lines.append(
                f"{r['changed']:<15} {r['factor']:<19} {r['traces']:>7,} {_f(r['names_it'], True):>8} "
                f"{_f(r['accuracy']):>8}"
            )
    return "\n".join(lines)


def _e(text: object) -> str:
    import html

    return html.escape(str(text), quote=True)


def plot_svg(a: Analysis, width: int = 560) -> str:
    """Horizontal bars per factor: the share of traces invoking it and, where answers are known, the accuracy of
    those traces next to the accuracy of the others (a self-contained SVG, no plotting library)."""
    label_w, row_h, top = 140, 46, 34
    plot_w = width - label_w - 70
    height = top + row_h * len(a.factors) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="12" role="img" aria-label="factors invoked by {a.n} traces">',
        f"<title>Factors invoked by {a.n:,} traces ({LEXICON_VERSION})</title>",
        f'<text x="{label_w}" y="14">share invoking (blue); accuracy when invoked (green) / not (grey)</text>',
    ]
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + t * plot_w
        parts.append(f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{height - 26}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{t:g}</text>')
    bars = (("share", "#0969da"), ("accuracy_invoked", "#1a7f37"), ("accuracy_not_invoked", "#8c959f"))
    for i, r in enumerate(a.factors):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end">{_e(r["factor"])}</text>')
        for j, (key, colour) in enumerate(bars):
            v = r[key]
            if v is None:
                continue
            yy = y + j * 12
            parts.append(
                f'<rect x="{label_w}" y="{yy}" width="{max(v * plot_w, 0.5):.1f}" height="10" fill="{colour}">'
                f"<title>{_e(r['factor'])}: {key.replace('_', ' ')} {v:.3f} ({r['traces']:,} traces invoke it)"
                "</title></rect>"
            )
            parts.append(f'<text x="{label_w + v * plot_w + 4:.1f}" y="{yy + 9}" font-size="10">{v:.2f}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def cmd_traces(args: argparse.Namespace) -> int:
    from .fsutil import atomic_write_bytes

    try:
        traces = read_traces(args.traces)
    except (RecordError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    a = analyze(traces)
    doc = {"lexicon": LEXICON_VERSION, "n": a.n, "scored": a.scored, "accuracy": a.accuracy,
           "factors": a.factors, "kinds": a.kinds, "on_factor": a.on_factor}  # fmt: skip
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(format_analysis(a))
    if args.out:
        out = Path(args.out)
        atomic_write_bytes(out / "trace_factors.json", (json.dumps(doc, indent=1) + "\n").encode())
        atomic_write_bytes(out / "trace_factors.txt", (format_analysis(a) + "\n").encode())
        atomic_write_bytes(out / "trace_factors.svg", plot_svg(a).encode())
        print(f"table -> {out / 'trace_factors.txt'}, plot -> {out / 'trace_factors.svg'}", file=sys.stderr)
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register ``analyze`` (with ``traces``) on the ``deepimagine`` subcommand parser."""
    p = sub.add_parser("analyze", help="read reasoning traces for interpretable signals")
    asub = p.add_subparsers(dest="analyze_command", required=True)
    t = asub.add_parser(
        "traces",
        help="factors each trace invokes, accuracy by factor and pair kind (table + SVG plot)",
        description="Reads traces: a pairs dataset folder or hub root (its `traces` config), the attempts log of "
        "`deepimagine traces` (every try, kept or not), lm-eval --log_samples files of deepimagine_pairs, or any "
        "JSONL/parquet with a text (trace/text/output/completion) and `correct` or `answer_index` + `options`. "
        f"Finds the factors each invokes with the {LEXICON_VERSION} lexicon (dose, population, geography, outcome "
        "definition, mechanism) and prints the share invoking each, accuracy when invoked and not, the same per "
        "pair kind, and whether traces name the factor that changed. With --out writes trace_factors.{txt,json,svg}.",
    )
    t.add_argument("traces", nargs="+", help="folders, .parquet or .jsonl files")
    t.add_argument("--out", type=Path, default=None, help="folder for trace_factors.txt, .json and .svg")
    t.add_argument("--json", action="store_true", help="print one JSON document instead of the tables")
    t.set_defaults(func=cmd_traces)
