"""The leaderboard as one self-contained HTML page: inline CSS, JS and SVG, no network request, the same bytes for
the same store.

Laid out for a reader at 1366 px: by default each board shows one line per entry (rank, model and revision, overall
balanced accuracy, cross-entropy and ECE each with its 95% interval beside it, n, training cutoff, submission date,
and the notes in a ``<details>`` that opens over the table); the per-category columns and overall macro-F1 and Brier
sit behind a toggle. The rank and model columns stay in view while the wide table scrolls. The chance and majority
reference rows (:mod:`.references`) sit among the entries where their balanced accuracy falls, unranked ("—") and
muted. Under each board, one reliability diagram per submission whose bars say how many answers each bin holds.
"""

from __future__ import annotations

import html
import math
from importlib import resources

import pyarrow as pa

from .. import __version__
from ..scoring.metrics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CI_LEVEL,
    METRIC_LABELS,
    METRICS,
    MIN_CATEGORY_QUESTIONS,
)
from .schema import LOWER_IS_BETTER, ROW_CATEGORIES
from .standings import Board, Entry, boards, col_id, fmt, fmt_interval, overall_rule

# The overall figures a reader compares first; the others (and every category) are behind the toggle.
DEFAULT_METRICS = ("balanced_accuracy", "cross_entropy", "ece")
# A bin's accuracy from n answers has a standard error up to 0.5/sqrt(n): from this many answers on (at most 0.05) a
# bar is drawn solid; fewer, fainter (by sqrt of the share), so 2 answers never look as certain as 200.
SOLID_BIN = 100


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _count(n: int) -> str:
    """A bin's count in the width of a bar: ``2``, ``605``, ``1.2k``."""
    return str(n) if n < 1000 else f"{n / 1000:.1f}k" if n < 9950 else f"{round(n / 1000)}k"


def bin_opacity(count: int) -> float:
    """A reliability bar's fill opacity: solid from :data:`SOLID_BIN` answers on, fainter below.

    >>> bin_opacity(200), bin_opacity(100), bin_opacity(25), bin_opacity(2)
    (0.9, 0.9, 0.525, 0.256)
    """
    return round(0.15 + 0.75 * math.sqrt(min(count, SOLID_BIN) / SOLID_BIN), 3)


def calibration_svg(bins: list[dict], label: str, size: int = 240) -> str:
    """An inline SVG reliability diagram: accuracy per confidence bin as bars, the diagonal of perfect calibration.

    ``bins`` are :func:`deepimagine_data.scoring.metrics.reliability`'s rows; empty bins draw nothing. Above each bar
    its number of answers; the bar is solid from :data:`SOLID_BIN` answers on and fainter with fewer
    (:func:`bin_opacity`), so a bin of 2 answers does not look as solid as one of 200. Each bar's ``<title>`` (a
    tooltip) gives its count, mean confidence and accuracy.
    """
    m = 38  # room left of the plot for the tick labels and the rotated axis title
    top = 16  # room above the plot for the count over a bar at accuracy 1
    w = size - m - 8
    x0, y0 = m, top + w  # origin (confidence 0, accuracy 0) in SVG coordinates, y grows downwards
    height = y0 + 26

    def px(v: float) -> str:
        return f"{x0 + v * w:.1f}"

    def py(v: float) -> str:
        return f"{y0 - v * w:.1f}"

    parts = [
        f'<svg class="calibration" xmlns="http://www.w3.org/2000/svg" width="{size}" height="{height}" '
        f'viewBox="0 0 {size} {height}" role="img" aria-label="{_e(label)}">',
        f"<title>{_e(label)}</title>",
        f'<rect x="{x0}" y="{top}" width="{w}" height="{w}" fill="#fff" stroke="#d0d7de"/>',
    ]
    for t in (0.25, 0.5, 0.75):
        parts.append(f'<line x1="{px(t)}" y1="{top}" x2="{px(t)}" y2="{y0}" stroke="#eaeef2"/>')
        parts.append(f'<line x1="{x0}" y1="{py(t)}" x2="{x0 + w}" y2="{py(t)}" stroke="#eaeef2"/>')
    for b in bins:
        if not b["count"]:
            continue
        lo, hi, acc, n = b["lower"], b["upper"], b["accuracy"], b["count"]
        parts.append(
            f'<rect class="bin" data-count="{n}" x="{px(lo)}" y="{py(acc)}" width="{(hi - lo) * w - 1:.1f}" '
            f'height="{acc * w:.1f}" fill="#0969da" fill-opacity="{bin_opacity(n)}"><title>confidence '
            f"{lo:.1f}–{hi:.1f}: {n:,} answers, mean confidence {b['confidence']:.3f}, accuracy {acc:.3f}"
            "</title></rect>"
        )
        parts.append(
            f'<text class="count" x="{px((lo + hi) / 2)}" y="{float(py(acc)) - 2:.1f}" text-anchor="middle" '
            f'font-size="8">{_count(n)}</text>'
        )
        parts.append(f'<circle cx="{px(b["confidence"])}" cy="{py(acc)}" r="2.5" fill="#1b1f24"/>')
    parts.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#cf222e" stroke-dasharray="4 3"/>')
    for t in (0, 0.5, 1):
        parts.append(f'<text x="{px(t)}" y="{y0 + 12}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{x0 - 4}" y="{float(py(t)) + 3:.1f}" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{x0 + w / 2:.1f}" y="{height - 2}" text-anchor="middle">confidence</text>')
    mid = f"{top + w / 2:.1f}"
    parts.append(f'<text x="10" y="{mid}" text-anchor="middle" transform="rotate(-90 10 {mid})">accuracy</text>')
    parts.append("</svg>")
    return "".join(parts)


def _header_cell(
    col: str, label: str, numeric: bool, first: str, sort: str | None = None, rowspan: int = 1, cls: str = ""
) -> str:
    attrs = f' data-col="{col}" data-type="{"num" if numeric else "text"}" data-first="{first}"'
    if cls:
        attrs += f' class="{cls}"'
    if sort:
        attrs += f' aria-sort="{sort}"'
    if rowspan > 1:
        attrs += f' rowspan="{rowspan}"'
    return f'<th scope="col"{attrs}><button type="button">{_e(label)}</button></th>'


def _metric_cell(e: Entry, category: str, metric: str, cls: str = "num") -> str:
    v = e.value(category, metric)
    raw = "" if v is None else repr(v)  # full precision for sorting; the text is rounded
    ci = e.interval(category, metric)
    # the interval beside its figure, smaller: one line per row
    ci_html = (
        f' <span class="ci" title="{CI_LEVEL:.0%} interval">{_e(fmt_interval(ci))}</span>'
        if ci is not None and v is not None
        else ""
    )
    return f'<td class="{cls}" data-col="{col_id(category, metric)}" data-v="{raw}"><span class="v">{fmt(v)}</span>{ci_html}</td>'  # noqa: E501


def _detail(board: Board, e: Entry) -> str:
    """The notes and the rest of an entry's identity, in a ``<details>`` that opens over the table."""
    if e.reference:
        facts = [f"reference row, not ranked: {e.notes}", "scored on this board's questions"]
        summary, notes = "about", ""
    else:
        late = f" (on or after the benchmark cutoff {board.cutoff})" if e.flagged else ""
        facts = [
            f"revision {e.model_revision}",
            f"training cutoff {e.training_cutoff}{late}",
            f"submitted {e.submitted_at:%Y-%m-%d %H:%M} UTC",
            f"{e.runs} run{'s' if e.runs != 1 else ''}",
            f"submission {e.submission_id[:12]}",
        ]
        summary, notes = ("notes" if e.notes else "details"), e.notes
    items = "".join(f"<li>{_e(f)}</li>" for f in facts)
    text = f'<p class="note">{_e(notes)}</p>' if notes else ""
    return f'<td class="detail"><details><summary>{summary}</summary><div class="pop">{text}<ul>{items}</ul></div></details></td>'  # noqa: E501


def _row(board: Board, rank: int | None, e: Entry, extra_cats: list[str]) -> str:
    flag = (
        ' <span class="flag" title="training cutoff on or after the benchmark cutoff '
        f'{board.cutoff}: the model may have seen the answers">⚠ cutoff</span>'
        if e.flagged
        else ""
    )
    n = e.questions
    answers = "" if n is None else f"{n:,} questions" + (f" × {e.runs} runs = {n * e.runs:,} answers" * (e.runs > 1))
    runs = f' <span class="runs">×{e.runs}</span>' if e.runs > 1 else ""
    cells = [
        f'<td class="rank" data-col="rank" data-v="{rank or ""}">{rank or "—"}</td>',
        f'<td class="model" data-col="model" data-v="{_e(e.model_name)}"><span class="name" title="{_e(e.model_name)}">'
        f'{_e(e.model_name)}</span> <span class="rev" title="{_e(e.model_revision)}">{_e(e.model_revision)}</span>'
        f"{flag}</td>",
        *(_metric_cell(e, "overall", m) for m in DEFAULT_METRICS),
        f'<td class="num" data-col="questions" data-v="{"" if n is None else n}" title="{_e(answers)}">'
        f"{'–' if n is None else f'{n:,}'}{runs}</td>",
    ]
    if e.reference:
        cells += ['<td data-col="training_cutoff" data-v="">–</td>', '<td data-col="submitted_at" data-v="">–</td>']
    else:
        cells += [
            f'<td data-col="training_cutoff" data-v="{e.training_cutoff}">{e.training_cutoff}</td>',
            f'<td data-col="submitted_at" data-v="{e.submitted_at.isoformat()}" '
            f'title="{e.submitted_at:%Y-%m-%d %H:%M} UTC">{e.submitted_at:%Y-%m-%d}</td>',
        ]
    cells.append(_detail(board, e))
    cells += [_metric_cell(e, "overall", m, "num more") for m in METRICS if m not in DEFAULT_METRICS]
    cells += [_metric_cell(e, c, m, "num more") for c in extra_cats for m in METRICS]
    if e.reference:
        return f'<tr class="ref" data-reference="{_e(e.model_name)}">{"".join(cells)}</tr>'
    return f'<tr data-submission="{_e(e.submission_id)}">{"".join(cells)}</tr>'


def _metric_header(category: str, metric: str, cls: str = "") -> str:
    best = "ascending" if metric in LOWER_IS_BETTER else "descending"
    arrow = "↓" if metric in LOWER_IS_BETTER else "↑"
    sort = "descending" if (category, metric) == ("overall", "balanced_accuracy") else None
    return _header_cell(col_id(category, metric), f"{METRIC_LABELS[metric]} {arrow}", True, best, sort, cls=cls)


def _board_html(board: Board) -> str:
    cats = [c for c in ROW_CATEGORIES[1:] if any(c in e.by_category for e in board.entries)]
    made = board.overall_of()
    overall_note = "mean of " + ", ".join(made) if made else ""
    small = f'<span class="n">{_e(overall_note)}</span>' if overall_note else ""
    head1 = [
        '<th scope="col" rowspan="2" class="rank">#</th>',
        _header_cell("model", "model", False, "ascending", rowspan=2, cls="model"),
        f'<th scope="colgroup" colspan="{len(DEFAULT_METRICS)}">overall{small}</th>',
        _header_cell("questions", "n", True, "descending", rowspan=2),
        _header_cell("training_cutoff", "training cutoff", False, "descending", rowspan=2),
        _header_cell("submitted_at", "submitted", False, "descending", rowspan=2),
        '<th scope="col" rowspan="2">notes</th>',
    ]
    rest = [m for m in METRICS if m not in DEFAULT_METRICS]
    head1.append(f'<th scope="colgroup" colspan="{len(rest)}" class="more">overall, other metrics</th>')
    head2 = [_metric_header("overall", m) for m in DEFAULT_METRICS]
    head2 += [_metric_header("overall", m, "more") for m in rest]
    for c in cats:
        note = " · not in overall" if board.left_out(c) else ""
        sizes = board.category_sizes(c)
        small = f'<span class="n">{_e(sizes + note)}</span>' if sizes or note else ""
        head1.append(f'<th scope="colgroup" colspan="{len(METRICS)}" class="more">{_e(c)}{small}</th>')
        head2 += [_metric_header(c, m, "more") for m in METRICS]
    body = [_row(board, rank, e, cats) for rank, e in board.standing()]
    plots = []
    for e in board.entries:
        overall = e.by_category.get("overall")
        if overall is None:
            continue
        answers = sum(b["count"] for b in overall["reliability"] or [])
        label = f"Calibration of {e.model_name} {e.model_revision} on {board.title}"
        plots.append(
            f'<figure data-submission="{_e(e.submission_id)}">{calibration_svg(overall["reliability"] or [], label)}'
            f"<figcaption><strong>{_e(e.model_name)}</strong> {_e(e.model_revision)}: all questions"
            f"{' of ' + str(e.runs) + ' runs' if e.runs > 1 else ''}; n = {answers:,} answers; overall ECE "
            f"{fmt(overall['ece'])}</figcaption></figure>"
        )
    n = len(board.entries)
    refs = ""
    if board.references:
        names = " and ".join(r.model_name for r in board.references)
        refs = f" · reference rows ({names}) scored on the same questions, not ranked"
    note = f'<p class="meta refnote">{_e(board.reference_note)}</p>' if board.reference_note else ""
    table_id = f"lb-{board.anchor}"
    toggle = (
        f'<p class="controls"><button type="button" class="toggle" aria-expanded="false" aria-controls="{table_id}">'
        "Show per-category columns</button></p>"
    )
    return (
        f'<section class="board" id="{board.anchor}">'
        f"<h2>{_e(board.title)}</h2>"
        f'<p class="meta">{n} submission{"s" if n != 1 else ""} · {board.questions:,} questions · '
        f"benchmark cutoff {board.cutoff}{_e(refs)}</p>"
        f'<p class="meta rule">{_e(overall_rule(board))}</p>{note}{toggle}'
        f'<div class="scroll" id="{table_id}"><table class="lb" data-board="{board.anchor}">'
        f"<thead><tr>{''.join(head1)}</tr><tr>{''.join(head2)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
        "<h3>Calibration (reliability diagram, overall)</h3>"
        f'<p class="meta">Bars: accuracy per confidence bin, the number above a bar its answers; a bar is solid from '
        f"{SOLID_BIN} answers on and fainter with fewer. The dashed diagonal is perfect calibration.</p>"
        f'<div class="plots">{"".join(plots)}</div>'
        "</section>"
    )


def render_html(table: pa.Table, references: dict | None = None) -> str:
    """The whole self-contained page for the store's rows; ``references`` as
    :func:`~deepimagine_data.leaderboard.board_references` gives them (none: no reference rows)."""
    bs = boards(table, references)
    latest = max((e.submitted_at for b in bs for e in b.entries), default=None)
    intro = (
        "<h1>DeepImagine leaderboard</h1>"
        f'<p class="meta">{sum(len(b.entries) for b in bs)} submission(s)'
        f"{f', latest {latest:%Y-%m-%d %H:%M} UTC' if latest else ''}. Metrics are CT Open's (balanced accuracy, "
        "macro-F1, cross-entropy; averaged over runs, then over categories for <em>overall</em>) plus Brier score and "
        f"expected calibration error. Beside each figure, its {CI_LEVEL:.0%} interval from a trial-clustered "
        f"bootstrap (the trials are resampled, {BOOTSTRAP_RESAMPLES:,} times by default, seed {BOOTSTRAP_SEED}); "
        f"<em>overall</em> leaves out categories with fewer than {MIN_CATEGORY_QUESTIONS} questions; <em>n</em> is "
        "the questions scored. Click a column header to sort; the per-category columns, macro-F1 and Brier are "
        "behind each board's toggle.</p>"
        '<p class="legend"><span class="flag">⚠ cutoff</span>: the model\'s training cutoff is on or after the '
        "benchmark cutoff, so its training data may hold the answers. Rows ranked <em>—</em> are references "
        "(<em>chance</em>: uniform probabilities; <em>majority</em>: the bench train split's answer shares), scored "
        "on the board's own questions.</p>"
    )
    nav = "".join(f'<li><a href="#{b.anchor}">{_e(b.title)}</a></li>' for b in bs)
    body = intro + (f"<nav><ul>{nav}</ul></nav>" if len(bs) > 1 else "") + "".join(_board_html(b) for b in bs)
    if not bs:
        body += "<p>No submissions yet.</p>"
    return (
        _page_template()
        .replace("<!--TITLE-->", "DeepImagine leaderboard")
        .replace("<!--GENERATOR-->", _e(f"deepimagine-data {__version__}"))
        .replace("<!--BODY-->", body)
    )


def _page_template() -> str:
    """The page around the boards: style, sort/toggle script and the slots filled above
    (``templates/leaderboard/page.html``)."""
    return (resources.files("deepimagine_data") / "templates" / "leaderboard" / "page.html").read_text("utf-8")
