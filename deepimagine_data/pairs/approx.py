"""Approximate counterfactual pairs and successive pathways, from embedding retrieval over trials.

Where a trial holds no natural counterfactual, DeepImagine starts from a *similar* trial whose result is known (the
anchor) and reasons across the factors in which the target differs (arXiv 2604.23054, approximate counterfactuals
and successive counterfactual imagining). Built here as data:

1. **Retrieval.** Every trial with a labelled comparison and a results-first-posted date gets its text view
   (:func:`deepimagine_data.retrieval.trial_text`) embedded (:class:`~deepimagine_data.retrieval.Embedder`, cached by
   content). One faiss index per split (:class:`~deepimagine_data.retrieval.VectorIndex`); a target's neighbours are
   the most similar trials of its own split whose results were posted *strictly before* its own (an anchor from the
   future would leak), that are another registry trial (another split key: the CliniFact row of an AACT trial is the
   same trial), and, for ``train``, on no decontamination list.
2. **Anchor comparison.** In each neighbour, the labelled comparison whose outcome is most like the target's (same
   parameter type first, then rapidfuzz ``token_set_ratio`` of :func:`~deepimagine_data.pairs.factors.outcome_key`).
3. **Factor diff** (:func:`~deepimagine_data.pairs.factors.diff`): changed / unknown factors. Candidates with no
   changed factor are dropped (nothing to reason across); the rest are ranked by fewest factors not known to be
   equal (changed + unknown), then fewest changed, then trial similarity, then id.
4. ``approx``: the best ``approx_anchors`` candidates per target comparison. ``pathways``: per target trial, its
   first labelled comparison (primary outcomes first) and its best ``pathway_anchors`` candidates, each with the
   ordered single-factor steps from anchor to target (order :data:`DEFAULT_ORDER`: arm, outcome, population,
   geography, then the rest), every step rendered as a local counterfactual prompt.

The label of every row is the *target's own* posted result (all :data:`~deepimagine_data.pairs.strict.
COMPARISON_FIELDS` kept): the verifiable reward of RL on approximate pairs.

Example record (config ``approx``, train; target RTOG 94-08 NCT00002597, anchor NCT00288080, both AACT)::

    {"pair_id": "approx:NCT00002597:O7:OG000|OG001<NCT00288080:O4:OG000|OG001", "kind": "approx",
     "nct_id": "NCT00002597", "results_first_posted_date": date(2017, 6, 6), "anchor_nct_id": "NCT00288080",
     "anchor_results_first_posted_date": date(2017, 1, 23), "a_title": "Hormone Therapy + Radiation Therapy",
     "b_title": "Radiation Therapy Alone", "outcome_title": "Disease-free Survival Rate (10 Years)",
     "anchor_outcome_title": "Disease-free Survival", "changed_factors": ["intervention"],
     "unknown_factors": ["dose", "population", "geography"], "similarity": 0.8161, "retrieval_rank": 2,
     "retrieval_model": "sentence-transformers/all-MiniLM-L6-v2", "p_value": 0.001, "significance": "significant",
     "question_type": "comparative_3way", "answer_index": 1, "completion": "... DECISION: (0.0, 1.0, 0.0)", ...}

Citation: DeepImagine (arXiv 2604.23054).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from string import Template

import pyarrow as pa
from rapidfuzz import fuzz

from ..splits import SplitAssignment
from ..tables import PackedTable, lead_columns, of_trials
from .factors import FACTORS, Differ, FactorDiff, SideIndex, outcome_key
from .kinds import LEAD_COLUMNS
from .render import (
    TargetRule,
    arm_pair_blocks,
    known_result,
    options_fields,
    options_for,
    outcome_block,
    result_text,
    template_dir,
    text_fields,
    trial_fields,
)
from .strict import COMPARISON_FIELDS, OUTCOME_FIELDS, TEXT_FIELDS, TRIAL_CONTEXT_FIELDS, trial_context

APPROX_TEMPLATE = "approx-v3"
PATHWAY_TEMPLATE = "pathway-v3"
# The default order: arm (what is given, then how much), outcome, population, geography, then the rest.
DEFAULT_ORDER = ("intervention", "dose", "outcome", "population", "geography", "phase", "design")
# Aliases accepted in a user's order: "arm" is intervention + dose, "other" is phase + design.
ORDER_ALIASES = {"arm": ("intervention", "dose"), "other": ("phase", "design")}


@dataclass(frozen=True)
class ApproxOptions:
    """How anchors are retrieved and how many are kept.

    ``neighbours`` trials per target survive the split/date/list filters (searched among ``4 * neighbours`` first,
    so a target late in its split still finds earlier ones); ``model`` is any sentence-transformers name or folder
    (``None``: the bundled all-MiniLM-L6-v2); ``cache_dir`` the embedding cache (``None``: ``$DEEPIMAGINE_CACHE``).
    """

    model: str | None = None
    cache_dir: str | None = None
    neighbours: int = 20
    approx_anchors: int = 1
    pathway_anchors: int = 7
    order: tuple[str, ...] = DEFAULT_ORDER
    progress: bool = True
    # where the embedding model runs: cpu, cuda, mps, or several comma-separated (one process per device)
    device: str = "cpu"
    # a split's trials up to this many are searched exactly (flat); above, with HNSW, its recall measured
    exact_max: int = 20_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", parse_order(self.order))
        for name in ("neighbours", "approx_anchors", "pathway_anchors"):
            if getattr(self, name) < 1:
                raise ValueError(f"ApproxOptions.{name} must be >= 1, got {getattr(self, name)}")


def parse_order(order: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A full factor order from a user's partial one: aliases expanded, unnamed factors appended in default order.

    >>> parse_order("outcome,arm")
    ('outcome', 'intervention', 'dose', 'population', 'geography', 'phase', 'design')
    """
    items = [x.strip() for x in order.split(",")] if isinstance(order, str) else list(order)
    out: list[str] = []
    for x in items:
        if not x:
            continue
        names = ORDER_ALIASES.get(x, (x,))
        for n in names:
            if n not in FACTORS:
                raise ValueError(f"unknown factor {x!r} in order; use {', '.join(FACTORS)} or arm/other")
            if n not in out:
                out.append(n)
    return tuple(out) + tuple(f for f in DEFAULT_ORDER if f not in out)


# ==============================================================================================================
# Schemas
# ==============================================================================================================

S, F, I, B, D = pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.date32()
LS = pa.list_(S)
_ANCHOR_FIELDS = [
    ("anchor_trial_id", S),
    ("anchor_nct_id", S),
    ("anchor_source", S),
    ("anchor_results_first_posted_date", D),
    ("anchor_brief_title", S),
    ("anchor_phase", S),
    ("anchor_conditions", LS),
    ("anchor_comparison_id", S),
    ("anchor_outcome_id", S),
    ("anchor_outcome_title", S),
    ("anchor_a_title", S),
    ("anchor_b_title", S),
    ("anchor_param_type", S),
    ("anchor_analysis_id", S),
    ("anchor_p_value", F),
    ("anchor_p_value_modifier", S),
    ("anchor_alpha", F),
    ("anchor_significance", S),
    ("anchor_significance_source", S),
    ("anchor_direction", S),
    ("anchor_benefit", S),
    ("anchor_result", S),
]
_RETRIEVAL_FIELDS = [
    ("changed_factors", LS),
    ("unknown_factors", LS),
    ("factor_details", pa.list_(pa.struct([("factor", S), ("verdict", S), ("detail", S)]))),
    ("similarity", F),
    ("outcome_similarity", F),
    ("retrieval_rank", I),
    ("anchor_rank", I),
    ("retrieval_model", S),
    ("retrieval_model_revision", S),
    ("text_version", S),
]
_TARGET_FIELDS = [*TRIAL_CONTEXT_FIELDS, ("target_nct_id", S), *OUTCOME_FIELDS, *COMPARISON_FIELDS]
# Declared in the order they are published (kinds.LEAD_COLUMNS first).
APPROX = lead_columns(
    pa.schema([("pair_id", S), ("kind", S), *_TARGET_FIELDS, *_ANCHOR_FIELDS, *_RETRIEVAL_FIELDS, *TEXT_FIELDS]),
    LEAD_COLUMNS,
)
STEP = pa.struct([("step", I), ("factor", S), ("detail", S), ("verifiable", B), ("prompt", S)])
PATHWAYS = lead_columns(
    pa.schema(
        [
            ("pathway_id", S),
            ("kind", S),
            *_TARGET_FIELDS,
            *_ANCHOR_FIELDS,
            *_RETRIEVAL_FIELDS,
            ("order", LS),
            ("n_steps", I),
            ("steps", pa.list_(STEP)),
            *TEXT_FIELDS,
        ]
    ),
    LEAD_COLUMNS,
)


# ==============================================================================================================
# Retrieval
# ==============================================================================================================


@dataclass
class Retrieval:
    """trial_id -> [(anchor trial_id, cosine similarity rounded to 4 places)], best first, filters applied."""

    neighbours: dict[str, list[tuple[str, float]]]
    model_name: str
    model_revision: str
    text_version: str
    embedded: int
    cache_hits: int
    # split -> faiss index kind ("flat" is exact) and, for an approximate one, recall@k against an exact search
    # on a seeded sample of its queries (None for flat)
    index: dict[str, tuple[str, float | None]] = field(default_factory=dict)

    def index_summary(self) -> str:
        parts = []
        for split, (kind, recall) in sorted(self.index.items()):
            parts.append(f"{split} {kind}" + ("" if recall is None else f" (recall@10 {recall:.3f})"))
        return ", ".join(parts)


def _eligible_anchor(target: str, anchor: str, assignment: SplitAssignment, exclude: Mapping[str, set[str]]) -> bool:
    kt, ka = assignment.key[target], assignment.key[anchor]
    if kt == ka:
        return False  # the same registry trial read from another source
    dt_, da = assignment.date[kt], assignment.date[ka]
    if dt_ is None or da is None or not da < dt_:
        return False  # strictly earlier: an anchor posted the same day or later is not known at the target's time
    if assignment.split[anchor] != assignment.split[target]:
        return False
    # a train target's prompt shows the anchor's result: a listed (benchmark) trial must not reach training text
    return not (assignment.split[anchor] == "train" and any(ka in ids for ids in exclude.values()))


def retrieve(
    tables: Mapping[str, pa.Table],
    trial_ids: list[str],
    assignment: SplitAssignment,
    exclude: Mapping[str, set[str]],
    options: ApproxOptions,
) -> Retrieval:
    """Nearest earlier trials of the same split for every dated trial in ``trial_ids`` (one faiss index per split)."""
    from ..retrieval import TEXT_VERSION, Embedder, VectorIndex, trial_texts

    texts = trial_texts(tables)
    dated = sorted(t for t in set(trial_ids) if assignment.date[assignment.key[t]] is not None)
    emb = Embedder(options.model, cache_dir=options.cache_dir, progress=options.progress, device=options.device)
    vectors = emb.embed([texts[t] for t in dated]) if dated else None
    row = {t: i for i, t in enumerate(dated)}
    by_split: dict[str, list[str]] = defaultdict(list)
    for t in dated:
        by_split[assignment.split[t]].append(t)
    neighbours: dict[str, list[tuple[str, float]]] = {}
    kinds: dict[str, tuple[str, float | None]] = {}
    for split, ids in sorted(by_split.items()):
        vec = vectors[[row[t] for t in ids]]
        index = VectorIndex.build(vec, exact_max=options.exact_max)
        kinds[split] = (index.kind, _recall(index, vec) if index.kind != "flat" else None)
        k = min(len(ids), 4 * options.neighbours + 1)
        scores, hits = index.search(vec, k)
        for qi, t in enumerate(ids):
            found = []
            for s, j in zip(scores[qi], hits[qi], strict=True):
                if j < 0:
                    continue
                a = ids[j]
                if _eligible_anchor(t, a, assignment, exclude):
                    # rounded so that last-bit differences of a recomputed embedding do not reorder anchors
                    found.append((a, round(float(s), 4)))
            found.sort(key=lambda x: (-x[1], x[0]))
            neighbours[t] = found[: options.neighbours]
    return Retrieval(
        neighbours,
        emb.model_name,
        emb.model_revision,
        TEXT_VERSION,
        emb.stats["computed"],
        emb.stats["hits"],
        kinds,
    )


def _recall(index, vec, sample: int = 1000, k: int = 10) -> float:
    """recall@k of an approximate index against the exact search, on a seeded sample of its own vectors."""
    import numpy as np

    from ..retrieval.index import VectorIndex, recall_at_k

    rng = np.random.default_rng(0)
    queries = vec[rng.choice(len(vec), size=min(sample, len(vec)), replace=False)]
    return recall_at_k(index, VectorIndex.build(vec, kind="flat"), queries, k)


# ==============================================================================================================
# Candidates
# ==============================================================================================================


@dataclass(frozen=True)
class Candidate:
    """An anchor comparison for a target comparison, with the factors that differ and how it was found."""

    anchor: dict
    diff: FactorDiff
    similarity: float
    outcome_similarity: float
    retrieval_rank: int  # 1-based rank of the anchor's trial among the target's filtered neighbours


def outcome_similarity(target: Mapping, anchor: Mapping, titles: Mapping[str, str]) -> float:
    """rapidfuzz token_set_ratio of the two outcome titles' :func:`outcome_key`, in [0, 1].

    >>> outcome_similarity({"outcome_id": "a"}, {"outcome_id": "b"},
    ...                    {"a": "Progression Free Survival (PFS)", "b": "Progression-free Survival"})
    1.0
    """
    ka = outcome_key(titles.get(target["outcome_id"])) or ""
    kb = outcome_key(titles.get(anchor["outcome_id"])) or ""
    return round(fuzz.token_set_ratio(ka, kb) / 100.0, 4)


def _pick_anchor(target: dict, options: list[dict], titles: Mapping[str, str]) -> tuple[dict, float]:
    """The rule for a neighbour's anchor comparison: same parameter type first, then the most similar outcome
    title, then the comparison id. The build computes it with :class:`_Picker`; this plain form is what a test
    holds the picker to."""

    def key(c: dict) -> tuple:
        same_type = (c.get("param_type") or "") == (target.get("param_type") or "")
        return (not same_type, -outcome_similarity(target, c, titles), c["comparison_id"])

    best = min(options, key=key)
    return best, outcome_similarity(target, best, titles)


@dataclass
class _Neighbour:
    """One trial's usable comparisons as anchor options: its outcomes' keys and, per parameter type (and over all
    types), the first comparison of each outcome -- comparisons of one outcome tie on everything but their id."""

    keys: list[str]
    by_type: dict[str, list[tuple[int, dict]]]  # param_type or "" -> [(outcome index, comparison)]
    every: list[tuple[int, dict]]


class _Anchors:
    """:class:`_Neighbour` per trial and :func:`outcome_key` per outcome, each computed once per build."""

    def __init__(self, by_trial: Mapping[str, list[dict]], titles: Mapping[str, str]) -> None:
        self.by_trial, self.titles = by_trial, titles
        self._keys: dict[str, str] = {}
        self._trials: dict[str, _Neighbour | None] = {}

    def key(self, outcome_id: str) -> str:
        k = self._keys.get(outcome_id)
        if k is None:
            k = self._keys[outcome_id] = outcome_key(self.titles.get(outcome_id)) or ""
        return k

    def trial(self, trial_id: str) -> _Neighbour | None:
        if trial_id in self._trials:
            return self._trials[trial_id]
        comps = sorted(self.by_trial.get(trial_id) or (), key=lambda c: c["comparison_id"])
        index: dict[str, int] = {}
        by_type: dict[str, dict[int, dict]] = defaultdict(dict)
        every: dict[int, dict] = {}
        for c in comps:  # by id, so the first kept per outcome is the one the rule's tie-break picks
            j = index.setdefault(c["outcome_id"], len(index))
            by_type[c.get("param_type") or ""].setdefault(j, c)
            every.setdefault(j, c)
        n = None
        if comps:
            n = _Neighbour(
                [self.key(o) for o in index], {t: list(g.items()) for t, g in by_type.items()}, list(every.items())
            )
        self._trials[trial_id] = n
        return n


class _Picker:
    """:func:`_pick_anchor` for the comparisons of one target trial against its neighbours: one rapidfuzz
    ``cdist`` per neighbour scores the target's outcomes against the neighbour's, so the cost grows with
    distinct outcomes, not with neighbours' comparisons times the target's."""

    def __init__(self, anchors: _Anchors, targets: list[dict]) -> None:
        self.anchors = anchors
        self.row: dict[str, int] = {}
        for c in targets:
            self.row.setdefault(c["outcome_id"], len(self.row))
        self.keys = [anchors.key(o) for o in self.row]
        self._scores: dict[str, list[list[float]]] = {}

    def __call__(self, target: dict, trial_id: str) -> tuple[dict, float] | None:
        from rapidfuzz.process import cdist

        n = self.anchors.trial(trial_id)
        if n is None:
            return None
        scores = self._scores.get(trial_id)
        if scores is None:
            # float64 and the same rounding as outcome_similarity, so picks and ties are the plain rule's
            m = cdist(self.keys, n.keys, scorer=fuzz.token_set_ratio, dtype="float64")
            scores = self._scores[trial_id] = [[round(x / 100.0, 4) for x in r] for r in m.tolist()]
        row = scores[self.row[target["outcome_id"]]]
        options = n.by_type.get(target.get("param_type") or "") or n.every
        j, best = min(options, key=lambda o: (-row[o[0]], o[1]["comparison_id"]))
        return best, row[j]


def candidates(
    target: dict,
    neighbours: list[tuple[str, float]],
    pick: _Picker,
    sides: _Sides,
    differ: Differ,
) -> list[Candidate]:
    """The target's anchor candidates with at least one changed factor, best first (:func:`_rank_key`)."""
    out = []
    for rank, (tid, sim) in enumerate(neighbours, start=1):
        picked = pick(target, tid)
        if picked is None:
            continue
        anchor, osim = picked
        d = differ(sides(anchor), sides(target))
        if d.changed:
            out.append(Candidate(anchor, d, sim, osim, rank))
    out.sort(key=_rank_key)
    return out


def _rank_key(c: Candidate) -> tuple:
    # fewest factors not known to be equal first (an unknown factor may differ as much as a changed one), then
    # fewest known changes, then the more similar trial
    return (len(c.diff.changed) + len(c.diff.unknown), len(c.diff.changed), -c.similarity, c.anchor["comparison_id"])


class _Sides:
    """Sides per comparison id, computed once (a comparison is an anchor of many targets)."""

    def __init__(self, index: SideIndex) -> None:
        self.index = index
        self._cache: dict[str, object] = {}

    def __call__(self, comparison: dict):
        cid = comparison["comparison_id"]
        s = self._cache.get(cid)
        if s is None:
            s = self._cache[cid] = self.index.side(comparison)
        return s


# ==============================================================================================================
# Rendering
# ==============================================================================================================


@lru_cache(maxsize=4)
def _templates(version: str) -> tuple[dict[str, Template], str]:
    d = template_dir(version)
    names = ["prompt", "completion"] + (["step"] if (d / "step.txt").is_file() else [])
    raw = {n: (d / f"{n}.txt").read_text(encoding="utf-8") for n in names}
    sha = hashlib.sha256("\0".join(raw[n] for n in names).encode()).hexdigest()
    return {n: Template(t) for n, t in raw.items()}, sha


def _comparison_block(rec: dict, outcome: dict) -> str:
    a, b = arm_pair_blocks(rec)
    return f"{b} compared with {a}; {outcome_block(outcome)}"


def _anchor_fields(row: dict) -> dict:
    f = trial_fields(
        {
            "nct_id": row["anchor_nct_id"],
            "trial_id": row["anchor_trial_id"],
            "brief_title": row["anchor_brief_title"],
            "phase": row["anchor_phase"],
            "conditions": row["anchor_conditions"],
        }
    )
    return {f"anchor_{k}": v for k, v in f.items()}


def _listing(names: list[str]) -> str:
    """ "intervention", "intervention and dose", "intervention, dose and outcome"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _verdict(d: FactorDiff, factor: str) -> str:
    return "changed" if factor in d.changed else "unknown"


def _change_lines(d: FactorDiff, order: tuple[str, ...]) -> list[str]:
    return [f"- {d.details[f]}" for f in order if f in d.changed]


def _unknown_line(d: FactorDiff) -> str:
    if not d.unknown:
        return ""
    return "Not comparable from the records (may or may not differ): " + "; ".join(d.details[f] for f in d.unknown)


class _Rows:
    """Row building shared by ``approx`` and ``pathways``: target context, label, anchor, retrieval provenance."""

    def __init__(
        self,
        trials: Mapping[str, dict],
        outcomes: Mapping[str, dict],
        licenses: Mapping[str, str],
        retrieval: Retrieval,
        assignment: SplitAssignment,
        targets: TargetRule | None = None,
    ) -> None:
        self.trials, self.outcomes, self.licenses, self.retrieval = trials, outcomes, licenses, retrieval
        self.assignment, self.targets = assignment, TargetRule.parse(targets)

    def date(self, trial_id: str) -> dt.date | None:
        # the date the split and the time rule use: the earliest any source gives for the registry trial
        return self.assignment.date[self.assignment.key[trial_id]]

    def base(self, target: dict, cand: Candidate, anchor_rank: int) -> dict:
        t, o = self.trials[target["trial_id"]], self.outcomes[target["outcome_id"]]
        a = cand.anchor
        at, ao = self.trials[a["trial_id"]], self.outcomes[a["outcome_id"]]
        row = {k: target.get(k) for k, _ in COMPARISON_FIELDS}
        row.update(
            **trial_context(t, self.licenses),
            target_nct_id=t["nct_id"],
            outcome_id=target["outcome_id"],
            outcome_title=o["title"],
            outcome_type=o["outcome_type"],
            outcome_time_frame=o["time_frame"],
            unit_of_measure=o["unit_of_measure"],
            anchor_trial_id=a["trial_id"],
            anchor_nct_id=at["nct_id"],
            anchor_source=at["source"],
            anchor_results_first_posted_date=self.date(a["trial_id"]),
            anchor_brief_title=at["brief_title"],
            anchor_phase=at["phase"],
            anchor_conditions=at["conditions"],
            anchor_comparison_id=a["comparison_id"],
            anchor_outcome_id=a["outcome_id"],
            anchor_outcome_title=ao["title"],
            anchor_a_title=a["a_title"],
            anchor_b_title=a["b_title"],
            anchor_param_type=a["param_type"],
            anchor_analysis_id=a["analysis_id"],
            anchor_p_value=a["p_value"] if a["significance_source"] == "posted_p_value" else a["computed_p_value"],
            anchor_p_value_modifier=a["p_value_modifier"],
            anchor_alpha=a["alpha"],
            anchor_significance=a["significance"],
            anchor_significance_source=a["significance_source"],
            anchor_direction=a["direction"],
            anchor_benefit=a["benefit"],
            anchor_result=result_text(a),
            changed_factors=list(cand.diff.changed),
            unknown_factors=list(cand.diff.unknown),
            factor_details=[
                {"factor": f, "verdict": _verdict(cand.diff, f), "detail": cand.diff.details[f]}
                for f in FACTORS
                if f in cand.diff.details
            ],
            similarity=cand.similarity,
            outcome_similarity=cand.outcome_similarity,
            retrieval_rank=cand.retrieval_rank,
            anchor_rank=anchor_rank,
            retrieval_model=self.retrieval.model_name,
            retrieval_model_revision=self.retrieval.model_revision,
            text_version=self.retrieval.text_version,
        )
        qt, opts, ans = options_for(target, target["a_title"], target["b_title"])
        row.update(question_type=qt, options=opts, answer_index=ans, rationale=result_text(target))
        return row

    def blocks(self, row: dict, target: dict, anchor: dict) -> dict:
        return {
            **trial_fields(row),
            **_anchor_fields(row),
            **options_fields(row["options"]),
            "anchor_block": f"{_comparison_block(anchor, self.outcomes[anchor['outcome_id']])}. "
            f"Result: {row['anchor_result']}",
            "target_block": f"{_comparison_block(target, self.outcomes[target['outcome_id']])}.",
        }

    def known(self, anchor: dict) -> str:
        """The anchor's result in words, as the prompt states it (no numbers)."""
        at = self.trials[anchor["trial_id"]]
        title = self.outcomes[anchor["outcome_id"]]["title"]
        return f'Known: in the anchor trial {at["nct_id"] or at["trial_id"]}, on "{title}", {known_result(anchor)}.'


def approx_row(rows: _Rows, target: dict, cand: Candidate, anchor_rank: int, order: tuple[str, ...]) -> dict:
    row = rows.base(target, cand, anchor_rank)
    row["pair_id"] = f"approx:{target['comparison_id']}<{cand.anchor['comparison_id']}"
    row["kind"] = "approx"
    tmpl, sha = _templates(APPROX_TEMPLATE)
    change = "\n".join(_change_lines(cand.diff, order) + ([_unknown_line(cand.diff)] if cand.diff.unknown else []))
    prompt = tmpl["prompt"].substitute(**rows.blocks(row, target, cand.anchor), change_block=change).strip()
    changed = [f for f in order if f in cand.diff.changed]
    verb = "changes" if len(changed) == 1 else "change"
    reasoning = f"{rows.known(cand.anchor)} From the anchor to the target, the {_listing(changed)} {verb}"
    reasoning += f"; the {_listing(list(cand.diff.unknown))} may differ too." if cand.diff.unknown else "."
    row.update(text_fields(row, prompt, tmpl["completion"], APPROX_TEMPLATE, sha, reasoning, rows.targets))
    return row


def pathway_row(rows: _Rows, target: dict, cand: Candidate, anchor_rank: int, order: tuple[str, ...]) -> dict:
    row = rows.base(target, cand, anchor_rank)
    anchor = cand.anchor
    row["pathway_id"] = f"pathway:{target['comparison_id']}<{anchor['comparison_id']}"
    row["kind"] = "pathway"
    tmpl, sha = _templates(PATHWAY_TEMPLATE)
    blocks = rows.blocks(row, target, anchor)
    factors = [f for f in order if f in cand.diff.changed]
    steps, done = [], []
    for i, f in enumerate(factors, start=1):
        # the comparison as it stands after this step: the target's arms once the arm factors are applied, the
        # target's outcome once the outcome is; the question keeps the target's type (2-way / 3-way / NI)
        applied = {*done, f}
        last = i == len(factors)
        # still the anchor's arms / outcome while a factor that may change them (changed or unknown) is ahead;
        # the last step arrives at the target whatever the unknown factors were
        pending = set(cand.diff.changed) | set(cand.diff.unknown)
        arms_src = anchor if not last and ({"intervention", "dose"} & pending) - applied else target
        oc_src = anchor if not last and "outcome" in pending - applied else target
        _, opts, _ = options_for(target, arms_src["a_title"], arms_src["b_title"])
        previous = "\n".join(f"{j}. {cand.diff.details[g]}" for j, g in enumerate(done, start=1)) or "(none yet)"
        prompt = (
            tmpl["step"]
            .substitute(
                anchor_nct_id=blocks["anchor_nct_id"],
                anchor_brief_title=blocks["anchor_brief_title"],
                anchor_block=blocks["anchor_block"],
                previous_block=previous,
                step=i,
                n_steps=len(factors),
                factor=f,
                detail=cand.diff.details[f],
                current_a=f'"{arms_src["a_title"]}"',
                current_b=f'"{arms_src["b_title"]}"',
                current_outcome=rows.outcomes[oc_src["outcome_id"]]["title"],
                **options_fields(opts),
            )
            .strip()
        )
        steps.append({"step": i, "factor": f, "detail": cand.diff.details[f], "verifiable": last, "prompt": prompt})
        done.append(f)
    lines = [f"{j}. {cand.diff.details[g]}" for j, g in enumerate(factors, start=1)]
    if cand.diff.unknown:
        lines.append(_unknown_line(cand.diff))
    prompt = tmpl["prompt"].substitute(**blocks, steps_block="\n".join(lines)).strip()
    row.update(order=list(order), n_steps=len(steps), steps=steps)
    reasoning = f"{rows.known(anchor)} The walk changes one factor at a time: " + ", then ".join(factors) + "."
    row.update(text_fields(row, prompt, tmpl["completion"], PATHWAY_TEMPLATE, sha, reasoning, rows.targets))
    return row


# ==============================================================================================================
# Build
# ==============================================================================================================


@dataclass
class ApproxResult:
    tables: dict[str, PackedTable]  # "approx", "pathways" (before splitting), sorted by id
    retrieval: Retrieval
    options: ApproxOptions
    targets: int  # labelled, dated target comparisons considered
    without_anchor: int  # of those, how many had no candidate with a changed factor
    dropped: dict = field(default_factory=dict)  # config -> Counter of rows dropped after rendering, by reason


def labelled(comparisons: list[dict]) -> list[dict]:
    """Comparisons that can be a target or an anchor: those that may make an arm pair (a known answer, two protocol
    arms, p-value and CI that agree: :func:`~deepimagine_data.pairs.comparisons.exclusion`) and make a question, as
    the strict pairs."""
    from .comparisons import exclusion

    out = []
    for c in comparisons:
        if exclusion(c) is not None:
            continue
        if options_for(c, c["a_title"], c["b_title"])[2] is not None:
            out.append(c)
    return out


class _Batches:
    """Rows turned into zstd-packed Arrow every ``size`` rows (:class:`~deepimagine_data.tables.PackedTable`: a
    pathway row's text is tens of kB, and at registry scale the unpacked rows alone were several GiB), with the keys
    the repeated-prompt filter reads. Rows arrive in id order (trials by ``trial_id + ":"``, each trial's rows
    sorted), so :meth:`table` needs no sort over the whole corpus."""

    def __init__(self, schema: pa.Schema, id_column: str, size: int = 2048):
        self.schema, self.id_column, self.size = schema, id_column, size
        self.rows: list[dict] = []
        self.packed = PackedTable(schema)
        self.keys: list[dict] = []

    def add_trial(self, rows: list[dict]) -> None:
        """One trial's rows (any order)."""
        self.rows.extend(sorted(rows, key=lambda r: r[self.id_column]))
        if len(self.rows) >= self.size:
            self._flush()

    def _flush(self) -> None:
        from ..question_rows import row_keys

        if self.rows:
            t = pa.Table.from_pylist(self.rows, schema=self.schema)
            self.keys.extend(row_keys(t, self.id_column))
            self.packed.append(t)
            self.rows = []

    def table(self, dropped: Counter) -> PackedTable:
        from ..question_rows import keep_rows, kept_across_trials

        self._flush()
        keep = kept_across_trials(self.keys, self.id_column, dropped)
        out = PackedTable.of((keep_rows(t, keep, self.id_column) for t in self.packed), self.schema)
        self.packed = PackedTable(self.schema)
        return out


def build_approx(
    tables: Mapping[str, pa.Table],
    licenses: Mapping[str, str],
    comparisons: list[dict],
    assignment: SplitAssignment,
    exclude: Mapping[str, set[str]],
    options: ApproxOptions | None = None,
    targets: TargetRule | str | None = None,
) -> ApproxResult:
    """``approx`` and ``pathways`` tables (schemas :data:`APPROX`, :data:`PATHWAYS`), rows sorted by id; ``targets``
    is the decision-line rule of the completions."""
    from tqdm.auto import tqdm

    options = options or ApproxOptions()
    comps = labelled(comparisons)
    by_trial: dict[str, list[dict]] = defaultdict(list)
    for c in comps:
        by_trial[c["trial_id"]].append(c)
    # only trials with a usable comparison are targets or anchors: at registry scale a seventh of the trials, so
    # their rows are all that becomes Python objects (the side vocabulary still reads every trial)
    own = of_trials(tables, sorted(by_trial))
    retrieval = retrieve(own, sorted(by_trial), assignment, exclude, options)
    trials = {r["trial_id"]: r for r in own["trials"].to_pylist()}
    outcomes = {
        r["outcome_id"]: r
        for r in own["outcomes"]
        .select(["outcome_id", "title", "outcome_type", "outcome_index", "time_frame", "unit_of_measure"])
        .to_pylist()
    }
    titles = {k: v["title"] for k, v in outcomes.items()}
    sides = _Sides(SideIndex(tables, by_trial))
    anchors, differ = _Anchors(by_trial, titles), Differ()
    rows = _Rows(trials, outcomes, dict(licenses), retrieval, assignment, TargetRule.parse(targets))

    # rows become Arrow a batch at a time (a pathway row's text is tens of kB; as Python strings a whole build's
    # rows would cost several times their Arrow size), with the keys the repeated-prompt filter reads
    batches = {"approx": _Batches(APPROX, "pair_id"), "pathways": _Batches(PATHWAYS, "pathway_id")}
    targets = without = 0
    # trials in the order of their rows' ids (each id starts with "<kind>:<trial_id>:"), so the rows come out sorted
    order = sorted(retrieval.neighbours, key=lambda t: t + ":")
    for tid in tqdm(order, desc="approx pairs", unit="trial", disable=not options.progress):
        neigh = retrieval.neighbours[tid]
        rows_of: dict[str, list[dict]] = {"approx": [], "pathways": []}
        first_done = False
        ordered = sorted(
            by_trial[tid],
            key=lambda c: (
                outcomes[c["outcome_id"]]["outcome_type"] != "PRIMARY",
                outcomes[c["outcome_id"]]["outcome_index"],
                c["comparison_id"],
            ),
        )
        pick = _Picker(anchors, ordered)
        for target in ordered:
            targets += 1
            cands = candidates(target, neigh, pick, sides, differ)
            if not cands:
                without += 1
                continue
            for r, cand in enumerate(cands[: options.approx_anchors], start=1):
                rows_of["approx"].append(approx_row(rows, target, cand, r, options.order))
            if not first_done:
                # one pathway target per trial: the walks of one trial's outcomes would share anchors and steps
                first_done = True
                for r, cand in enumerate(cands[: options.pathway_anchors], start=1):
                    rows_of["pathways"].append(pathway_row(rows, target, cand, r, options.order))
        for name, b in batches.items():
            b.add_trial(rows_of[name])
    from collections import Counter

    dropped = {"approx": Counter(), "pathways": Counter()}
    out = {name: b.table(dropped[name]) for name, b in batches.items()}
    return ApproxResult(out, retrieval, options, targets, without, dropped)


def posted_before(anchor: dt.date | None, target: dt.date | None) -> bool:
    """The time rule of an anchor, for checks on built rows: both dated, the anchor strictly earlier."""
    return anchor is not None and target is not None and anchor < target
