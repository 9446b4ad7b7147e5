"""The terminal summary and the card's ``## traces`` section, from a :class:`~.generate.Tally`.

>>> from .generate import Tally
>>> print(format_summary(Tally()).splitlines()[0])
config  split  pairs  kept  not kept  request failed  samples  rejected  kept %
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..http import cause_label
from . import verify
from .generate import CONFIG, DATASET, PairResult, Sampling, Tally
from .prompt import TEMPLATE_VERSION, templates

_SPLIT_ORDER = {"train": 0, "validation": 1, "test": 2}


@dataclass(frozen=True)
class Provenance:
    """What the card says about where the traces came from (all of it deterministic for a full cache)."""

    model: str
    sampling: Sampling
    model_revision: str | None = None  # --model-revision; else the revisions the cache recorded
    price_in: float | None = None
    price_out: float | None = None


@dataclass(frozen=True)
class Failure:
    """Pairs whose last request failed with one cause (``HTTP 500``, ``malformed JSON (HTTP 200)``, ``timeout``,
    ...), and the first such message."""

    cause: str
    pairs: int
    example: str


def request_failures(results: Sequence[PairResult]) -> list[Failure]:
    """The pairs that stopped on a failed request, by what the last attempt got, most frequent first.

    >>> request_failures([])
    []
    """
    counts: Counter = Counter()
    examples: dict[str, str] = {}
    for r in results:
        if r.http_failed:
            error = r.samples[-1].error
            cause = cause_label(error) or "request failed"
            counts[cause] += 1
            examples.setdefault(cause, error)
    return [Failure(c, n, examples[c]) for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def failure_counts(failures: Sequence[Failure]) -> str:
    """``"HTTP 500 3, timeout 1"``: the causes in one line."""
    return ", ".join(f"{f.cause} {f.pairs:,}" for f in failures)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(cells)

    return "\n".join([line(header).rstrip(), *(line(r).rstrip() for r in rows)])


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def _count_rows(t: Tally) -> list[list[str]]:
    rows = []
    for cfg, split in sorted(t.pairs, key=lambda k: (k[0], _SPLIT_ORDER.get(k[1], len(_SPLIT_ORDER)), k[1])):
        k = (cfg, split)
        n, kept = t.pairs[k], t.kept[k]
        rejected = t.samples[k] - kept
        rows.append(
            [
                cfg,
                split,
                f"{n:,}",
                f"{kept:,}",
                f"{n - kept:,}",
                f"{t.http_failed[k]:,}",
                f"{t.samples[k]:,}",
                f"{rejected:,}",
                _pct(kept, n),
            ]
        )
    return rows


def format_summary(
    t: Tally,
    *,
    price_in: float | None = None,
    price_out: float | None = None,
    failures: Sequence[Failure] | None = None,
) -> str:
    """Plain-text tables: pairs and samples per config and split, rejected samples by reason, and with
    ``failures`` (:func:`request_failures`) the failed requests by what their last attempt got."""
    header = ["config", "split", "pairs", "kept", "not kept", "request failed", "samples", "rejected", "kept %"]
    out = [_table(header, _count_rows(t), set(range(2, 9)))]
    out.append("")
    order = list(dict.fromkeys([*verify.REASONS, *sorted(t.reasons)]))
    if failures is not None:  # shown by cause below, in full: a cut example hid the cause ("...: gave up")
        order.remove(verify.HTTP_ERROR)
    rows = [[r, f"{t.reasons[r]:,}", t.examples.get(r, "")[:90]] for r in order if t.reasons[r]]
    if rows:
        out.append(_table(["rejected because", "samples", "example"], rows, {1}))
    else:
        out.append("rejected samples: none")
    if failures:
        out.append("")
        rows = [[f.cause, f"{f.pairs:,}", f.example] for f in failures]
        out.append(_table(["request failed (last attempt got)", "pairs", "example"], rows, {1}))
    cost = t.cost(price_in, price_out)
    out.append("")
    out.append(
        f"tokens (all samples): prompt {t.prompt_tokens:,}, completion {t.completion_tokens:,}"
        + (f"; cost ${cost:,.4f}" if cost is not None else "")
    )
    return "\n".join(out)


def card_section(t: Tally, prov: Provenance, splits: dict[str, int], failures: Sequence[Failure] | None = None) -> str:
    """The ``## traces`` section of the pairs card: provenance, counts, rejections by reason (and the causes of
    ``failures``, when a run wrote with failed requests), tokens and cost."""
    s = prov.sampling
    _, _, sha = templates(TEMPLATE_VERSION)
    configs = sorted({cfg for cfg, _ in t.pairs})
    revision = prov.model_revision or (", ".join(f"`{r}`" for r in sorted(t.revisions)) if t.revisions else "unknown")
    if prov.model_revision:
        revision = f"`{revision}` (given)"
    hosts = ", ".join(f"`{h}`" for h in sorted(t.hosts)) or "unknown"
    dates = f"{t.first.isoformat()} to {t.last.isoformat()}" if t.first and t.last else "no samples"
    cost = t.cost(prov.price_in, prov.price_out)
    cost_text = (
        f"${cost:,.4f} at ${prov.price_in or 0:g} / ${prov.price_out or 0:g} per million prompt / completion tokens"
        if cost is not None
        else "not computed (no prices given)"
    )
    split_text = ", ".join(f"{k} {v:,}" for k, v in splits.items())
    if any(v == 0 for v in splits.values()):
        split_text += " (a split without a kept trace is not in the config)"
    lines = [
        f"## {CONFIG}",
        "",
        f"Reasoning traces from a teacher model for the pairs of {', '.join(f'`{c}`' for c in configs)}: the teacher "
        "is shown a pair's prompt (the anchor and its known result, the changed factor(s), the target and the "
        "options) and asked to explain how and why the result changes from the anchor to the target, ending with "
        "`DECISION: (p1, p2[, p3])`. The known answer is never shown. A sample is kept only when its decision line "
        "parses with one probability per option, is the only decision line, and its unique highest probability is "
        f"the known `answer_index` (rejection sampling, up to {s.tries} samples per pair): every row is verified "
        f"against the posted result. Rows: {split_text}.",
        "",
        "| provenance | |",
        "|---|---|",
        f"| teacher model | `{prov.model}` |",
        f"| model revision | {revision} |",
        f"| endpoint host | {hosts} |",
        f"| template | `{TEMPLATE_VERSION}`, sha256 `{sha}` |",
        f"| sampling | temperature {s.temperature:g}, top_p {s.top_p:g}, max_tokens {s.max_tokens}, seed {s.seed} "
        f"(sample k is sent with seed {s.seed} + k), up to {s.tries} samples per pair |",
        f"| generated | {dates} (UTC, from the responses' `created`) |",
        f"| tokens | prompt {t.prompt_tokens:,}, completion {t.completion_tokens:,} (every sample, kept or not) |",
        f"| cost | {cost_text} |",
        "",
        "| source config | split | pairs | kept | not kept | samples | rejected samples | kept % |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in _count_rows(t):
        lines.append(f"| `{r[0]}` | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[6]} | {r[7]} | {r[8]} |")
    lines += ["", "| rejected because | samples |", "|---|---:|"]
    for reason in verify.REASONS:
        lines.append(f"| {reason} | {t.reasons[reason]:,} |")
    if failures:
        lines += ["", f"Pairs whose requests failed (`{verify.HTTP_ERROR}`), by what the last attempt got: "
                  f"{failure_counts(failures)}."]  # fmt: skip
    lines += [
        "",
        "Columns: the pair's `prompt`, `options`, `answer_index` and label source values (`significance`, "
        "`benefit`, `decision3`, `p_value`, `p_value_modifier`, `alpha`); the verified `trace`, also as "
        "`completion` and as `messages` (user: prompt, assistant: trace) for TRL; `decision_probabilities`, "
        "`tries_used`; the teacher's provenance per row (`teacher_model`, `teacher_model_revision`, "
        "`template_version`, `template_sha256`, sampling parameters, `generated_at`) and its token counts. "
        f"`deepimagine build` rewrites this folder without `{CONFIG}`: run `deepimagine traces` again after a build "
        "(finished requests come from its cache).",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'traces = load_dataset("{DATASET}", "{CONFIG}")',
        'sft = traces["train"].select_columns(["prompt", "completion"])  # TRL SFTTrainer, prompt-completion',
        "```",
    ]
    return "\n".join(lines)
