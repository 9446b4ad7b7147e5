"""Labelled two-group comparisons: the unit every strict pair and every benchmark question is made of.

A comparison is one outcome measure of one trial and two of its result groups, ``a`` (the reference side) and
``b`` (the compared side), with a label computed from what the source posted:

- **significance** from a posted analysis' p-value and its modifier at the analysis' stated alpha (0.05 when it
  states none), or — with no p-value posted — from its two-sided 95% confidence interval, or — where the source
  gives per-arm values and no analysis — from a test the package computes on those values (Fisher's exact test
  for counts, Welch's t-test for means; the method is stored);
- **direction** of ``b`` relative to ``a`` only where the data says it: per-arm values, or an estimate whose
  reference group a posted text names; else ``unknown``;
- **benefit** only where the outcome's polarity is known (``labels.outcome_polarity``); else ``unknown``.

Every value a label was computed from sits in the same record, so ``recompute_label`` can check it.

Example (AACT, NCT03584009, outcome 0, posted analysis S0)::

    {"comparison_id": "NCT03584009:O0:OG001|OG000", "a_title": "Fulvestrant", "a_arm_type": "ACTIVE_COMPARATOR",
     "b_title": "Venetoclax + Fulvestrant", "roles_source": "arm_type", "p_value": 0.7286, "p_value_modifier": None,
     "alpha": 0.05, "alpha_source": "default", "significance": "not_significant",
     "significance_source": "posted_p_value", "direction": "unknown", ...}
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import pyarrow as pa
from rapidfuzz import fuzz, process

from .. import labels as L

COMPARATOR_TYPES = {"PLACEBO_COMPARATOR", "ACTIVE_COMPARATOR", "NO_INTERVENTION", "SHAM_COMPARATOR"}
NON_INFERIORITY_TYPES = {
    "NON_INFERIORITY",
    "EQUIVALENCE",
    "NON_INFERIORITY_OR_EQUIVALENCE",
    "NON_INFERIORITY_OR_EQUIVALENCE_LEGACY",
}
# A title naming a control arm; only used when exactly one of the two groups matches.
_CONTROL_RE = re.compile(
    r"\b(placebo|sham|vehicle|control|standard (of )?care|usual care|observation|no treatment|best supportive care)\b",
    re.I,
)
# Result-group titles are matched to protocol arm titles exactly (normalized) first; this fuzzy fallback catches
# "Arm A: Drug X" vs "Arm A - Drug X" style variants and must be unambiguous.
_FUZZY_ARM_MATCH = 90
_MEAN_TYPES = {"MEAN", "LEAST_SQUARES_MEAN"}


def norm_title(s: str | None) -> str:
    return re.sub(r"\s+", " ", (s or "").lower()).strip()


@dataclass
class Corpus:
    """The six tables indexed for pairing (plain dicts: the corpus is small and the rules are per record)."""

    trials: dict[str, dict]
    outcomes: dict[str, dict]
    groups: dict[str, dict]  # result groups, each with its linked protocol arm's type/interventions/dose
    groups_by_outcome: dict[str, list[str]]
    measurements: dict[str, list[dict]]  # group_id -> measurement rows
    analyses: dict[str, list[dict]]  # outcome_id -> analysis rows
    arm_link: dict[str, str] = field(default_factory=dict)  # result group_id -> protocol arm group_id
    # trial_id -> agents given at two or more non-zero doses (a dose-ranging trial of that agent)
    dose_ranging: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables: dict[str, pa.Table]) -> Corpus:
        trials = {r["trial_id"]: r for r in tables["trials"].to_pylist()}
        outcomes = {r["outcome_id"]: r for r in tables["outcomes"].to_pylist()}
        arms = tables["arms"].to_pylist()
        protocol: dict[str, list[dict]] = defaultdict(list)
        for r in arms:
            if r["group_type"] == "arm":
                protocol[r["trial_id"]].append(r)
        groups, by_outcome, link = {}, defaultdict(list), {}
        for r in arms:
            if r["group_type"] != "outcome":
                continue
            g = dict(r)
            arm = _match_arm(g["title"], protocol.get(g["trial_id"], []))
            if arm is not None:
                link[g["group_id"]] = arm["group_id"]
                g["arm_type"] = arm["arm_type"]
                g["intervention_names"] = arm["intervention_names"] or []
                g["arm_description"] = arm["description"]
                if arm["dose_value"] is not None or g["dose_value"] is None:
                    for k in ("dose_value", "dose_unit", "dose_frequency", "dose_route", "dose_text"):
                        g[k] = arm[k]
            else:
                g["arm_description"] = None
            groups[g["group_id"]] = g
            by_outcome[g["outcome_id"]].append(g["group_id"])
        meas = defaultdict(list)
        for r in tables["measurements"].to_pylist():
            meas[r["group_id"]].append(r)
        an = defaultdict(list)
        for r in tables["analyses"].to_pylist():
            an[r["outcome_id"]].append(r)
        for v in an.values():
            v.sort(key=lambda r: r["analysis_index"])
        doses: dict[str, dict[str, set[float]]] = defaultdict(lambda: defaultdict(set))
        for r in arms:
            agents = _agents(r)
            if r["group_type"] == "arm" and len(agents) == 1 and r["dose_value"] and "placebo" not in agents:
                doses[r["trial_id"]][next(iter(agents))].add(r["dose_value"])
        ranging = {t: {a for a, d in by.items() if len(d) >= 2} for t, by in doses.items()}
        return cls(trials, outcomes, groups, dict(by_outcome), dict(meas), dict(an), link, ranging)


def _match_arm(title: str | None, arms: list[dict]) -> dict | None:
    if not arms or not title:
        return None
    key = norm_title(title)
    exact = [a for a in arms if norm_title(a["title"]) == key]
    if len(exact) == 1:
        return exact[0]
    if exact:
        return None
    scored = process.extract(key, [norm_title(a["title"]) for a in arms], scorer=fuzz.token_sort_ratio, limit=2)
    if scored and scored[0][1] >= _FUZZY_ARM_MATCH and (len(scored) == 1 or scored[1][1] < _FUZZY_ARM_MATCH):
        return arms[scored[0][2]]
    return None


def arm_value(rows: list[dict]) -> L.ArmValue | None:
    """The single per-arm value of a group on an outcome; several classes/categories are ambiguous -> None."""
    rows = [r for r in rows if r["value"] is not None]
    if len(rows) != 1:
        return None
    r = rows[0]
    return L.ArmValue(
        param_type=r["param_type"], value=r["value"], n=r["n"], spread=r["spread"], dispersion_type=r["dispersion_type"]
    )


def roles(c: Corpus, gid1: str, gid2: str, analysis: dict | None = None) -> tuple[str, str, str]:
    """(a, b, roles_source): which group is the reference side ``a``.

    For two doses of one intervention (``dose_match``) the lower dose is ``a`` (``dose_<how>``; a frequency change
    keeps listed order: ``dose_frequency``); else by arm type (one comparator-type arm), else by title (one
    control-like title), else by a posted text naming the reference, else listed order (``b`` = first listed) —
    recorded, so a reader knows whether ``a`` is a comparator or only the second group of the analysis.
    """
    g1, g2 = c.groups[gid1], c.groups[gid2]
    how = dose_match(g1, g2, c.dose_ranging.get(g1["trial_id"], set()))
    if how is not None:
        if g1["dose_value"] == g2["dose_value"]:  # a frequency change: no order of intensity is claimed
            return gid2, gid1, "dose_frequency"
        return (gid1, gid2, f"dose_{how}") if g1["dose_value"] < g2["dose_value"] else (gid2, gid1, f"dose_{how}")
    t1, t2 = g1["arm_type"] in COMPARATOR_TYPES, g2["arm_type"] in COMPARATOR_TYPES
    if t1 != t2:
        return (gid1, gid2, "arm_type") if t1 else (gid2, gid1, "arm_type")
    c1, c2 = bool(_CONTROL_RE.search(g1["title"] or "")), bool(_CONTROL_RE.search(g2["title"] or ""))
    if c1 != c2:
        return (gid1, gid2, "title") if c1 else (gid2, gid1, "title")
    if analysis is not None:
        ref = _reference((analysis["group_description"], analysis["estimate_comment"]), (g1["title"], g2["title"]))
        if ref is not None:
            return (gid1, gid2, "estimate_text") if ref.reference == 0 else (gid2, gid1, "estimate_text")
    return gid2, gid1, "listed_order"


def _agents(g: dict) -> frozenset[str]:
    from ..normalize.names import basic_name

    return frozenset(basic_name(n) for n in g["intervention_names"] or [] if n)


_STEM_NOISE = re.compile(
    r"\b(arm|group|cohort|dose|doses|level|once|twice|daily|weekly|qd|bid|tid|q\d+w|mg|kg|m2|iu|µg|mcg|g)\b", re.I
)


def title_stem(g: dict) -> str | None:
    """The group's title without its parsed dose span: "Fulvestrant 250 mg" -> "fulvestrant"."""
    t, d = g["title"] or "", g["dose_text"]
    if not d or d not in t:
        return None
    t = _STEM_NOISE.sub(" ", t.replace(d, " "))
    t = re.sub(r"[^a-z ]", " ", t.lower())
    return " ".join(t.split()) or None


def dose_match(g1: dict, g2: dict, ranging: set[str] | frozenset[str] = frozenset()) -> str | None:
    """How two groups are the same intervention at different doses, or None.

    ``"interventions"``: both linked protocol arms give one and the same intervention; ``"title"``: the two titles
    are equal once the dose span is removed ("Romiplostim 300 µg" / "Romiplostim 100 µg"). The doses must be in
    the same unit (or both of a unit the source does not state) and differ in amount, or — same amount — in a
    stated frequency ("Ixekizumab 80 mg Q2W" / "Q4W"). ``"zero"``: a placebo arm the source codes as dose 0
    (MBNMAdose/DoseFinding) against a dose of an agent the trial gives at two or more non-zero doses
    (``ranging``) — the zero point of a dose-ranging trial. Placebo is otherwise never a dose.
    """
    if g1["dose_value"] is None or g2["dose_value"] is None:
        return None
    z1, z2 = (
        g1["dose_value"] == 0 and g1["dose_text"] == "0 (placebo)",
        g2["dose_value"] == 0 and g2["dose_text"] == "0 (placebo)",
    )
    if z1 != z2:
        other = g2 if z1 else g1
        agents = _agents(other)
        return "zero" if len(agents) == 1 and agents <= ranging and other["dose_value"] > 0 else None
    if g1["dose_unit"] != g2["dose_unit"] or z1:
        return None
    if g1["dose_value"] == g2["dose_value"]:
        f1, f2 = g1["dose_frequency"], g2["dose_frequency"]
        if not f1 or not f2 or f1 == f2:
            return None
    a1, a2 = _agents(g1), _agents(g2)
    # one agent per arm: in a combination arm the parsed dose could belong to either drug
    if len(a1) == 1 and a1 == a2 and "placebo" not in a1:
        return "interventions"
    s1, s2 = title_stem(g1), title_stem(g2)
    if s1 and s1 == s2 and "placebo" not in s1:
        return "title"
    return None


@cache
def _reference(texts: tuple[str | None, ...], titles: tuple[str, ...]) -> L.Reference | None:
    # the same analysis text is read once for the roles and once for the direction
    return L.reference_from_text(list(texts), list(titles))


def _alpha(analysis: dict) -> L.Alpha:
    return L.alpha_from_text(
        {
            "statistical_comment": analysis["statistical_comment"],
            "p_value_comment": analysis["p_value_comment"],
            "non_inferiority_comment": analysis["non_inferiority_comment"],
            "estimate_comment": analysis["estimate_comment"],
        }
    )


def _flip(direction: str) -> str:
    return {"higher": "lower", "lower": "higher"}.get(direction, direction)


CI_ALPHA = 0.05


def ci_significance(rec: dict, stated: L.Alpha) -> str | None:
    """Significance from a posted two-sided 95% confidence interval where no p-value was posted: the interval
    excludes the estimate's null (1 for ratios, 0 for differences) <=> p < 0.05. None where that reading is not
    safe: another CI level or one-sided, an unknown kind of estimate, numbers the estimate type cannot take
    (``estimate_direction`` unknown, e.g. a ratio posted as a percentage), or an analysis stating another alpha."""
    if rec["ci_sides"] != "TWO_SIDED" or rec["ci_percent"] != 95.0 or stated.value != CI_ALPHA:
        return None
    lo, hi, null = rec["ci_lower"], rec["ci_upper"], L.estimate_null(rec["estimate_type"])
    if lo is None or hi is None or null is None or lo > hi:
        return None
    if L.estimate_direction(rec["estimate_value"], lo, hi, rec["estimate_type"]) == "unknown":
        return None
    return "significant" if (lo > null or hi < null) else "not_significant"


def comparison(
    c: Corpus, outcome_id: str, a: str, b: str, roles_source: str, analysis: dict | None, n_posted: int
) -> dict:
    """One labelled comparison of ``b`` against ``a`` on ``outcome_id`` (``analysis`` = the posted one, or None)."""
    o = c.outcomes[outcome_id]
    ga, gb = c.groups[a], c.groups[b]
    va, vb = arm_value(c.measurements.get(a, [])), arm_value(c.measurements.get(b, []))
    pol = L.outcome_polarity(o["title"], o["description"])
    rec: dict = {
        "comparison_id": f"{outcome_id}:{ga['code']}|{gb['code']}",
        "trial_id": o["trial_id"],
        "outcome_id": outcome_id,
        "roles_source": roles_source,
        "dose_match": dose_match(ga, gb, c.dose_ranging.get(ga["trial_id"], set())),
        "polarity": pol.value,
        "polarity_rule": pol.rule,
        "n_posted_analyses": n_posted,
    }
    for side, g, v in (("a", ga, va), ("b", gb, vb)):
        rec[f"{side}_group_id"] = g["group_id"]
        rec[f"{side}_title"] = g["title"]
        rec[f"{side}_description"] = g["description"] or g["arm_description"]
        rec[f"{side}_arm_type"] = g["arm_type"]
        rec[f"{side}_interventions"] = list(g["intervention_names"] or [])
        rec[f"{side}_dose_value"] = g["dose_value"]
        rec[f"{side}_dose_unit"] = g["dose_unit"]
        rec[f"{side}_dose_text"] = g["dose_text"]
        rec[f"{side}_dose_frequency"] = g["dose_frequency"]
        rec[f"{side}_value"] = v.value if v else None
        rec[f"{side}_n"] = v.n if v else None
        rec[f"{side}_spread"] = v.spread if v else None
        rec[f"{side}_dispersion_type"] = v.dispersion_type if v else None
    rec["param_type"] = (va.param_type if va else None) or o["param_type"]
    test = L.compare_arms(va, vb) if (va and vb and va.param_type == vb.param_type) else None
    rec["computed_test"] = test.method if test else None
    rec["computed_p_value"] = test.p_value if test else None
    rec["change"] = test.change if test else None
    rec["change_kind"] = test.change_kind if test else None

    for k in (
        "analysis_id",
        "non_inferiority_type",
        "p_value",
        "p_value_modifier",
        "p_value_raw",
        "statistical_method",
        "estimate_type",
        "estimate_value",
        "ci_lower",
        "ci_upper",
        "ci_percent",
        "ci_sides",
    ):
        rec[k] = analysis[k] if analysis else None
    rec["is_non_inferiority"] = bool(analysis and analysis["non_inferiority_type"] in NON_INFERIORITY_TYPES)
    rec["reference_text"] = None
    if analysis is not None and analysis["p_value"] is not None:
        alpha = _alpha(analysis)
        rec["alpha"], rec["alpha_source"] = alpha.value, alpha.source
        rec["significance"] = L.significance(analysis["p_value"], analysis["p_value_modifier"], alpha.value)
        rec["significance_source"] = "posted_p_value"
    elif analysis is not None and (ci := ci_significance(rec, _alpha(analysis))) is not None:
        rec["alpha"], rec["alpha_source"] = CI_ALPHA, "ci_95_two_sided"
        rec["significance"], rec["significance_source"] = ci, "posted_ci"
    elif test is not None:
        rec["alpha"], rec["alpha_source"] = L.ALPHA_DEFAULT, "default"
        rec["significance"] = L.significance(test.p_value, None, L.ALPHA_DEFAULT)
        rec["significance_source"] = "computed_test"
    else:
        rec["alpha"], rec["alpha_source"] = None, None
        rec["significance"], rec["significance_source"] = "unknown", None

    direction, source, eff_pol = "unknown", None, pol.value
    if va and vb and va.param_type == vb.param_type:
        direction, source = L.value_direction(va.value, vb.value), "per_arm_values"
    elif analysis is not None and analysis["estimate_value"] is not None:
        ref = _reference((analysis["group_description"], analysis["estimate_comment"]), (ga["title"], gb["title"]))
        est = L.estimate_direction(
            analysis["estimate_value"], analysis["ci_lower"], analysis["ci_upper"], analysis["estimate_type"]
        )
        if ref is not None and est != "unknown":
            rec["reference_text"] = ref.source_text
            direction = est if ref.reference == 0 else _flip(est)
            source = "estimate_with_reference"
            eff_pol = L.estimate_polarity(pol, analysis["estimate_type"], o["title"])
    rec["direction"], rec["direction_source"] = direction, source
    rec["benefit_polarity"] = eff_pol
    rec["benefit"] = L.benefit(direction, eff_pol)
    rec["decision3"], rec["superiority"] = decisions(rec["significance"], rec["benefit"], rec["is_non_inferiority"])
    return rec


def decisions(significance: str, benefit: str, is_non_inferiority: bool) -> tuple[str, str]:
    """(3-way decision, superiority) of a comparison."""
    if is_non_inferiority:
        # a small p in a non-inferiority/equivalence analysis supports "not worse"/"equivalent", not a difference
        return "unknown", "unknown"
    return L.decide(significance, benefit), L.superiority(significance, benefit)


def recompute_label(rec: dict) -> dict:
    """The label fields recomputed from the source values stored in ``rec`` (a comparison or a pair row)."""
    out = {}
    if rec["significance_source"] == "posted_p_value":
        out["significance"] = L.significance(rec["p_value"], rec["p_value_modifier"], rec["alpha"])
    elif rec["significance_source"] == "posted_ci":
        out["significance"] = ci_significance(rec, L.Alpha(rec["alpha"], "ci_95_two_sided")) or "unknown"
    elif rec["significance_source"] == "computed_test":
        va = L.ArmValue(rec["param_type"], rec["a_value"], rec["a_n"], rec["a_spread"], rec["a_dispersion_type"])
        vb = L.ArmValue(rec["param_type"], rec["b_value"], rec["b_n"], rec["b_spread"], rec["b_dispersion_type"])
        t = L.compare_arms(va, vb)
        out["significance"] = L.significance(t.p_value if t else None, None, rec["alpha"])
    else:
        out["significance"] = "unknown"
    if rec["direction_source"] == "per_arm_values":
        out["direction"] = L.value_direction(rec["a_value"], rec["b_value"])
    elif rec["direction_source"] == "estimate_with_reference":
        est = L.estimate_direction(rec["estimate_value"], rec["ci_lower"], rec["ci_upper"], rec["estimate_type"])
        ref = L.reference_from_text([rec["reference_text"]], [rec["a_title"], rec["b_title"]])
        out["direction"] = "unknown" if ref is None else (est if ref.reference == 0 else _flip(est))
    else:
        out["direction"] = "unknown"
    out["benefit"] = L.benefit(out["direction"], rec["benefit_polarity"])
    out["decision3"], out["superiority"] = decisions(out["significance"], out["benefit"], rec["is_non_inferiority"])
    return out


def posted_comparisons(c: Corpus) -> list[dict]:
    """One comparison per (outcome, pair of groups) with a posted two-group analysis; where several analyses
    compare the same two groups (different methods or populations), the first with a usable p-value is the label
    and the count is kept."""
    out = []
    for outcome_id, rows in sorted(c.analyses.items()):
        by_pair: dict[frozenset, list[dict]] = defaultdict(list)
        for r in rows:
            gids = r["group_ids"] or []
            if len(gids) == 2 and gids[0] != gids[1] and all(g in c.groups for g in gids):
                by_pair[frozenset(gids)].append(r)
        for _, rs in sorted(by_pair.items(), key=lambda kv: kv[1][0]["analysis_index"]):
            chosen = next((r for r in rs if r["p_value"] is not None), rs[0])
            g1, g2 = chosen["group_ids"]
            a, b, src = roles(c, g1, g2, chosen)
            out.append(comparison(c, outcome_id, a, b, src, chosen, len(rs)))
    return out


def computed_comparisons(c: Corpus, posted: list[dict]) -> list[dict]:
    """Comparisons from per-arm values where no analysis was posted for that pair of groups."""
    have = {(r["outcome_id"], frozenset((r["a_group_id"], r["b_group_id"]))) for r in posted}
    out = []
    for outcome_id in sorted(c.groups_by_outcome):
        gids = [g for g in c.groups_by_outcome[outcome_id] if arm_value(c.measurements.get(g, []))]
        for g1, g2 in itertools.combinations(sorted(gids), 2):
            if (outcome_id, frozenset((g1, g2))) in have:
                continue
            a, b, src = roles(c, g1, g2)
            rec = comparison(c, outcome_id, a, b, src, None, 0)
            if rec["significance_source"] is not None:
                out.append(rec)
    return out


def all_comparisons(c: Corpus) -> list[dict]:
    posted = posted_comparisons(c)
    return posted + computed_comparisons(c, posted)
