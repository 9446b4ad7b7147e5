"""Labelled two-group comparisons: the unit every strict pair and every benchmark question is made of.

A comparison is one outcome measure of one trial and two of its result groups, ``a`` (the reference side) and
``b`` (the compared side), with a label computed from what the source posted (label rules
:data:`~deepimagine_data.evidence.LABEL_VERSION`):

- **significance** from a posted analysis as :func:`deepimagine_data.evidence.judge` reads it: the p-value with its
  modifier and sidedness at the analysis' own alpha (0.05 two-sided where it states none), or the confidence interval
  where the p-value is missing or unreadable; **non-inferiority/equivalence** (``ni_result``) from the interval
  against the posted margin; where the source gives per-arm values and no analysis, a test the package computes
  (Fisher's exact test for counts, Welch's t-test for means; the method is stored);
- **direction** of ``b`` relative to ``a`` only where the data says it: per-arm values, or an estimate whose
  reference group a posted text names; else ``unknown``;
- **benefit** only where the outcome's polarity is known (``labels.outcome_polarity``); else ``unknown``;
- **which analysis**: several posted analyses of the same outcome and the same two groups (subscales, time points,
  populations, sensitivity analyses) give one comparison only where their answers agree; where they disagree the
  pair is dropped (``analyses_disagree``), since the prompt could not say which one is asked;
- **arms**: each result group is linked to a protocol arm (:mod:`deepimagine_data.pairs.arms`), and
  ``group_relation`` says whether the two groups are two protocol arms (``"arms"``) or why not (subgroups, time
  points, one arm's cohorts, unmapped groups). Only arm comparisons make arm pairs and benchmark questions
  (:func:`exclusion`).

Every value a label was computed from sits in the same record, so ``recompute_label`` can check it.

Example (AACT, NCT03584009, outcome 0, posted analysis S0)::

    {"comparison_id": "NCT03584009:O0:OG001|OG000", "a_title": "Fulvestrant", "a_arm_type": "ACTIVE_COMPARATOR",
     "b_title": "Venetoclax + Fulvestrant", "roles_source": "arm_type", "group_relation": "arms",
     "p_value": 0.7286, "p_value_modifier": None, "p_value_sides": 2, "alpha": 0.05, "alpha_source": "default",
     "significance": "not_significant", "significance_source": "posted_p_value", "direction": "unknown", ...}
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache

import pyarrow as pa

from .. import evidence as E
from .. import labels as L
from .render import strip_intervention_lines

COMPARATOR_TYPES = {"PLACEBO_COMPARATOR", "ACTIVE_COMPARATOR", "NO_INTERVENTION", "SHAM_COMPARATOR"}
NON_INFERIORITY_TYPES = {
    "NON_INFERIORITY",
    "EQUIVALENCE",
    "NON_INFERIORITY_OR_EQUIVALENCE",
    "NON_INFERIORITY_OR_EQUIVALENCE_LEGACY",
}
POSTED_SOURCES = ("posted_p_value", "posted_ci", "posted_margin")
# A title naming a control arm; only used when exactly one of the two groups matches.
_CONTROL_RE = re.compile(
    r"\b(placebo|sham|vehicle|control|standard (of )?care|usual care|observation|no treatment|best supportive care)\b",
    re.I,
)
_MEAN_TYPES = {"MEAN", "LEAST_SQUARES_MEAN"}
# An arm that names no intervention at all (DoseFinding's migraine trial: "Dose 2.5", "Dose 5", ...): its doses
# are of the one unnamed study drug.
UNNAMED_AGENT = "(unnamed study drug)"


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
    links: dict = field(default_factory=dict)  # result group_id -> arms.ArmLink (its protocol arm, or none)
    # trial_id -> agents given at two or more non-zero doses (a dose-ranging trial of that agent)
    dose_ranging: dict[str, set[str]] = field(default_factory=dict)
    # outcome_id -> its polarity: it depends on the outcome alone, and an outcome has many comparisons
    polarities: dict[str, L.Polarity] = field(default_factory=dict)

    values: dict[str, L.ArmValue | None] = field(default_factory=dict)  # group_id -> its arm_value

    def value(self, group_id: str) -> L.ArmValue | None:
        """The group's single per-arm value (:func:`arm_value`), read once."""
        if group_id not in self.values:
            self.values[group_id] = arm_value(self.measurements.get(group_id, []))
        return self.values[group_id]

    def polarity(self, outcome_id: str) -> L.Polarity:
        pol = self.polarities.get(outcome_id)
        if pol is None:
            o = self.outcomes[outcome_id]
            pol = self.polarities[outcome_id] = L.outcome_polarity(o["title"], o["description"])
        return pol

    @classmethod
    def from_tables(cls, tables: dict[str, pa.Table]) -> Corpus:
        from .arms import link_outcome_groups

        trials = {r["trial_id"]: r for r in tables["trials"].to_pylist()}
        outcomes = {r["outcome_id"]: r for r in tables["outcomes"].to_pylist()}
        arms = tables["arms"].to_pylist()
        protocol: dict[str, list[dict]] = defaultdict(list)
        result_groups: dict[str, list[dict]] = defaultdict(list)
        for r in arms:
            if r["group_type"] == "arm":
                protocol[r["trial_id"]].append(r)
            elif r["group_type"] == "outcome":
                result_groups[r["outcome_id"]].append(r)
        interventions: dict[str, list[dict]] = defaultdict(list)
        for r in tables["interventions"].to_pylist():
            interventions[r["trial_id"]].append(r)
        by_id = {a["group_id"]: a for rows in protocol.values() for a in rows}
        groups, by_outcome, links = {}, defaultdict(list), {}
        stripped: dict[tuple[str, str | None], str | None] = {}  # a group's text recurs on every outcome
        for outcome_id in sorted(result_groups):
            rows = result_groups[outcome_id]
            tid = rows[0]["trial_id"]
            linked = link_outcome_groups(rows, protocol.get(tid, []), interventions.get(tid, []))
            appended = [(iv["name"], iv["description"]) for iv in interventions.get(tid, [])]
            for r in rows:
                g = dict(r)
                # the registry appends every intervention's description to every result group; shown as the
                # group's own text it gives an arm a schedule it does not receive (NCT00002525)
                key = (tid, r["description"])
                if key not in stripped:
                    stripped[key] = strip_intervention_lines(r["description"], appended)
                g["description"] = stripped[key]
                lk = linked[g["group_id"]]
                links[g["group_id"]] = lk
                arm = by_id.get(lk.arm_id) if lk.arm_id is not None else None
                if arm is not None:
                    g["arm_type"] = arm["arm_type"]
                    g["intervention_names"] = arm["intervention_names"] or []
                    g["arm_description"] = arm["description"]
                    g["arm_title"] = arm["title"]
                    if arm["dose_value"] is not None or g["dose_value"] is None:
                        for k in ("dose_value", "dose_unit", "dose_frequency", "dose_route", "dose_text"):
                            g[k] = arm[k]
                else:
                    g["arm_description"] = None
                    g["arm_title"] = None
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
            agents = _agents(r) or frozenset({UNNAMED_AGENT})
            if r["group_type"] == "arm" and len(agents) == 1 and r["dose_value"] and "placebo" not in agents:
                doses[r["trial_id"]][next(iter(agents))].add(r["dose_value"])
        ranging = {t: {a for a, d in by.items() if len(d) >= 2} for t, by in doses.items()}
        return cls(trials, outcomes, groups, dict(by_outcome), dict(meas), dict(an), links, ranging)


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
        ref = _reference(_reference_texts(analysis), (g1["title"], g2["title"]))
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
    """The group's title without its parsed dose span: "Fulvestrant 250 mg" -> "fulvestrant"; "" where nothing
    but dose words is left ("Dose 2.5"); None where the dose span is not in the title."""
    t, d = g["title"] or "", g["dose_text"]
    if d and d not in t:
        # the curated sources keep the parsed number with a note ("2.5 (units not stated in source)")
        d = d.split(" (", 1)[0]
    if not d or d not in t:
        return None
    t = _STEM_NOISE.sub(" ", t.replace(d, " "))
    t = re.sub(r"[^a-z ]", " ", t.lower())
    return " ".join(t.split())


def dose_match(g1: dict, g2: dict, ranging: set[str] | frozenset[str] = frozenset()) -> str | None:
    """How two groups are the same intervention at different doses, or None.

    ``"interventions"``: both linked protocol arms give one and the same intervention; ``"title"``: the two titles
    are equal once the dose span is removed ("Romiplostim 300 µg" / "Romiplostim 100 µg"), or are nothing but a
    dose in a trial that names no drug (DoseFinding's migraine trial: "Dose 2.5" / "Dose 5"). The doses must be in
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
        agents = _agents(other) or frozenset({UNNAMED_AGENT})
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
    if s1 is not None and s1 == s2 and "placebo" not in s1 and (s1 or (not a1 and not a2)):
        return "title"
    return None


def _reference_texts(analysis: dict) -> tuple[str | None, ...]:
    """The texts of an analysis that may order its two groups or say which values favour which (hashable, so the
    readers below cache per analysis)."""
    return tuple(analysis[f] for f in L.REFERENCE_FIELDS)


@cache
def _reference(texts: tuple[str | None, ...], titles: tuple[str, ...]) -> L.Reference | None:
    # the same analysis text is read once for the roles and once for the direction
    return L.reference_from_text(list(texts), list(titles))


def _flip(direction: str) -> str:
    return {"higher": "lower", "lower": "higher"}.get(direction, direction)


def read_analysis(rec: dict, analysis: dict) -> None:
    """Read what ``analysis`` states (sidedness, alpha, margin) into ``rec`` and judge it (``evidence.judge``)."""
    from ..margins import MARGIN_FIELDS, read_margin

    texts = {k: analysis[k] for k in E.SIDES_FIELDS}  # every free text of the analysis
    sides = E.p_value_sides(texts)
    alpha, alpha_source, alpha_sides = E.stated_alpha(texts, sides.sides)
    rec.update(
        p_value_sides=sides.sides,
        p_value_sides_source=sides.source,
        alpha=alpha,
        alpha_source=alpha_source,
        alpha_sides=alpha_sides,
    )
    note = None
    if rec["is_non_inferiority"]:
        m = read_margin(
            {f: texts.get(f) for f in MARGIN_FIELDS},
            analysis["estimate_type"],
            analysis["ci_lower"],
            analysis["ci_upper"],
            analysis["non_inferiority_type"],
        )
        if m.margin is not None:
            rec.update(ni_margin_lower=m.margin.lower, ni_margin_upper=m.margin.upper, ni_margin_text=m.margin.text)
        else:
            note = m.reason
    j = E.judge(rec)
    rec.update(
        significance=j.significance,
        significance_source=j.source,
        ni_result=j.ni_result,
        p_ci_check=j.p_ci_check,
        label_note=note or j.reason,
    )


def comparison(
    c: Corpus, outcome_id: str, a: str, b: str, roles_source: str, analysis: dict | None, n_posted: int
) -> dict:
    """One labelled comparison of ``b`` against ``a`` on ``outcome_id`` (``analysis`` = the posted one, or None)."""
    from .arms import pair_relation

    o = c.outcomes[outcome_id]
    ga, gb = c.groups[a], c.groups[b]
    va, vb = c.value(a), c.value(b)
    pol = c.polarity(outcome_id)
    rec: dict = {
        "comparison_id": f"{outcome_id}:{ga['code']}|{gb['code']}",
        "trial_id": o["trial_id"],
        "outcome_id": outcome_id,
        "roles_source": roles_source,
        "dose_match": dose_match(ga, gb, c.dose_ranging.get(ga["trial_id"], set())),
        "group_relation": pair_relation(ga, gb, c.links[a], c.links[b]),
        "polarity": pol.value,
        "polarity_rule": pol.rule,
        "n_posted_analyses": n_posted,
        "label_version": E.LABEL_VERSION,
    }
    for side, g, v in (("a", ga, va), ("b", gb, vb)):
        rec[f"{side}_group_id"] = g["group_id"]
        rec[f"{side}_title"] = g["title"]
        rec[f"{side}_description"] = g["description"] or g["arm_description"]
        rec[f"{side}_arm_id"] = c.links[g["group_id"]].arm_id
        rec[f"{side}_arm_title"] = g["arm_title"]
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
    rec.update(
        reference_text=None,
        p_value_sides=None,
        p_value_sides_source=None,
        alpha_sides=None,
        ni_margin_lower=None,
        ni_margin_upper=None,
        ni_margin_text=None,
        ni_result=None,
        p_ci_check="not_checkable",
        label_note=None,
    )
    if analysis is not None:
        read_analysis(rec, analysis)
    elif test is not None:
        rec["alpha"], rec["alpha_source"], rec["alpha_sides"] = L.ALPHA_DEFAULT, "default", 2
        rec["significance"] = L.significance(test.p_value, None, L.ALPHA_DEFAULT)
        rec["significance_source"] = "computed_test"
    else:
        rec["alpha"], rec["alpha_source"] = None, None
        rec["significance"], rec["significance_source"] = "unknown", None
        rec["label_note"] = "no_analysis_or_per_arm_values"

    direction, source, eff_pol = "unknown", None, pol.value
    if va and vb and va.param_type == vb.param_type:
        direction, source = L.value_direction(va.value, vb.value), "per_arm_values"
    elif analysis is not None and analysis["estimate_value"] is not None:
        ref = _reference(_reference_texts(analysis), (ga["title"], gb["title"]))
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
    if analysis is not None and source != "per_arm_values":
        fav = _favour(_reference_texts(analysis), (ga["title"], gb["title"]), rec)
        if fav is not None:
            said, text = fav
            if rec["benefit"] == "unknown":
                # the statement gives the benefit itself (no ordering, no polarity needed); it is what is kept
                rec.update(direction="unknown", direction_source="estimate_favour_statement", benefit=said)
                rec["reference_text"] = text
            elif said != rec["benefit"]:
                # an ordering with the outcome's polarity and a "favours" statement disagree: the record cannot say
                rec.update(direction="unknown", direction_source="conflicting_texts", benefit="unknown")
    if rec["benefit"] == "unknown" and (favours := one_sided_benefit(rec)) is not None:
        rec["direction_source"], rec["benefit"] = "one_sided_superiority_test", favours
    rec["decision3"], rec["superiority"] = decisions(rec["significance"], rec["benefit"], rec["is_non_inferiority"])
    return rec


@cache
def _favoured(texts: tuple[str | None, ...], titles: tuple[str, ...], estimate_type: str | None) -> L.Favour | None:
    return L.favoured_by_text(list(texts), list(titles), estimate_type)


def _favour(texts: tuple[str | None, ...], titles: tuple[str, str], rec: dict) -> tuple[str, str] | None:
    """(benefit of ``b``, the text) from a posted statement of which values of the estimate favour which group
    ("A hazard ratio of < 1 favours olaparib", NCT01081951) and the estimate's side of its null; None where no such
    statement is posted or the estimate cannot be placed."""
    fav = _favoured(texts, titles, rec["estimate_type"])
    if fav is None:
        return None
    side = L.estimate_direction(rec["estimate_value"], rec["ci_lower"], rec["ci_upper"], rec["estimate_type"])
    if side == "equal":
        return "no_difference", fav.source_text
    if side not in ("higher", "lower"):
        return None
    on_favoured_side = (side == "lower") == (fav.values == "below_null")
    b_favoured = (fav.group == 1) == on_favoured_side
    return ("better" if b_favoured else "worse"), fav.source_text


def one_sided_benefit(rec: dict) -> str | None:
    """The benefit a one-sided superiority test states: its alternative is that the experimental arm (``b``, by arm
    type, against a comparator ``a``) is better, so a one-sided p below 0.5 puts the estimate on ``b``'s side
    ("better") and above 0.5 on ``a``'s ("worse"); None where the record is not such a test or p is 0.5 or unread.
    KEYNOTE-048 (NCT02358031), pembrolizumab alone vs cetuximab + chemotherapy, PFS in all participants: one-sided
    p = 0.9983 -> "worse" (HR 1.29, 95% CI 1.09 to 1.53)."""
    if rec["p_value_sides"] != 1 or rec["non_inferiority_type"] != "SUPERIORITY" or rec["roles_source"] != "arm_type":
        return None
    if rec["a_arm_type"] not in COMPARATOR_TYPES or rec["b_arm_type"] != "EXPERIMENTAL":
        return None
    if E.p_readable(rec["p_value"], rec["p_value_modifier"]) != "read":
        return None
    p, mod = rec["p_value"], (rec["p_value_modifier"] or "=").strip()
    if p < 0.5 and mod in ("=", "<", "<="):
        return "better"
    if p > 0.5 and mod in ("=", ">", ">="):
        return "worse"
    return None


def decisions(significance: str, benefit: str, is_non_inferiority: bool) -> tuple[str, str]:
    """(3-way decision, superiority) of a comparison."""
    if is_non_inferiority:
        # a non-inferiority/equivalence analysis answers its own question (ni_result), not a difference
        return "unknown", "unknown"
    return L.decide(significance, benefit), L.superiority(significance, benefit)


def recompute_label(rec: dict) -> dict:
    """The label fields recomputed from the source values stored in ``rec`` (a comparison or a row built from it)."""
    out = {}
    if rec["significance_source"] in POSTED_SOURCES or (
        rec["analysis_id"] is not None and rec["significance_source"] is None
    ):
        j = E.judge(rec)
        out["significance"], out["significance_source"] = j.significance, j.source
        out["ni_result"], out["p_ci_check"] = j.ni_result, j.p_ci_check
    elif rec["significance_source"] == "computed_test":
        va = L.ArmValue(rec["param_type"], rec["a_value"], rec["a_n"], rec["a_spread"], rec["a_dispersion_type"])
        vb = L.ArmValue(rec["param_type"], rec["b_value"], rec["b_n"], rec["b_spread"], rec["b_dispersion_type"])
        t = L.compare_arms(va, vb)
        out["significance"] = L.significance(t.p_value if t else None, None, rec["alpha"])
    else:
        out["significance"] = "unknown"
    if rec["direction_source"] in ("one_sided_superiority_test", "estimate_favour_statement", "conflicting_texts"):
        out["direction"] = "unknown"
        if rec["direction_source"] == "one_sided_superiority_test":
            out["benefit"] = one_sided_benefit(rec) or "unknown"
        elif rec["direction_source"] == "estimate_favour_statement":
            fav = _favour((rec["reference_text"],), (rec["a_title"], rec["b_title"]), rec)
            out["benefit"] = fav[0] if fav else "unknown"
        else:
            out["benefit"] = "unknown"
        out["decision3"], out["superiority"] = decisions(out["significance"], out["benefit"], rec["is_non_inferiority"])
        return out
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


def answer_known(rec: dict) -> bool:
    """Whether the comparison answers its question: non-inferiority shown or not, or a known significance."""
    if rec["is_non_inferiority"]:
        return rec["ni_result"] in ("shown", "not_shown")
    return rec["significance"] != "unknown"


def dose_cohorts(rec: dict) -> bool:
    """Two dose cohorts of one protocol arm (a dose-escalation trial: "Romiplostim 100 µg" / "Romiplostim 300 µg"
    of NCT00283439's single arm): not two arms, but two doses of one intervention, which ``strict_dose`` holds."""
    return rec["group_relation"] == "same_arm" and rec["dose_match"] is not None


def exclusion(rec: dict, dose_cohorts_ok: bool = False) -> str | None:
    """None when a comparison may make an arm pair or a benchmark question; else the counted reason why not.
    ``dose_cohorts_ok``: two dose cohorts of one arm may make a ``strict_dose`` pair (never a question)."""
    if not answer_known(rec):
        return f"label_unknown:{rec['label_note'] or 'unknown'}"
    if rec["group_relation"] != "arms" and not (dose_cohorts_ok and dose_cohorts(rec)):
        return f"not_two_arms:{rec['group_relation']}"
    if rec["p_ci_check"] == "disagree":
        return "p_and_ci_disagree"
    return None


def _answer(rec: dict) -> tuple:
    if rec["is_non_inferiority"]:
        return ("ni", rec["ni_result"])
    return ("sup", rec["significance"], rec["direction"])


def _compatible(recs: list[dict]) -> bool:
    """Known answers of analyses of one pair of groups that do not contradict each other: one kind of analysis,
    one significance (or non-inferiority result), and no two known directions that differ."""
    answers = {_answer(r)[:2] for r in recs}
    if len(answers) > 1:
        return False
    directions = {r["direction"] for r in recs if r["direction"] in ("higher", "lower", "equal")}
    return len(directions) <= 1


@dataclass
class Labelled:
    """Every comparison of a corpus, what the steps that made them kept and dropped, and the corpus itself (the
    pairs and the questions are built from it too).

    ``tallies`` holds the funnel's numbers (``analyses``, ``posted``, ``computed``, ``merged``) and ``drops`` its
    reasons by step, so that the labelled parts of a partitioned build add up (:meth:`merge`) to the funnel of one
    build over all trials."""

    comparisons: list[dict]
    corpus: Corpus | None
    tallies: Counter = field(default_factory=Counter)
    drops: dict[str, Counter] = field(default_factory=dict)

    @property
    def steps(self) -> list[tuple[str, int, Counter]]:
        """(step, kept, dropped by reason): analyses -> two-group comparisons -> known answers -> arms -> p/CI."""
        t, d = self.tallies, self.drops
        get = lambda k: d.get(k, Counter())  # noqa: E731
        n_comps = t["posted"] + t["computed"]
        n_known = n_comps - sum(get("label_unknown").values())
        n_arms = n_known - sum(get("not_two_arms").values())
        return [
            ("posted analyses of two groups", t["analyses"] - sum(get("analysis").values()), get("analysis")),
            (
                f"comparisons ({t['posted']:,} posted + {t['computed']:,} per-arm; "
                f"{t['merged']:,} agreeing analyses merged)",
                n_comps,
                get("pair"),
            ),
            ("answer known from the record", n_known, get("label_unknown")),
            ("two protocol arms (or dose cohorts of one arm)", n_arms, get("not_two_arms")),
            ("p-value and CI agree", n_arms - sum(get("p_and_ci_disagree").values()), get("p_and_ci_disagree")),
        ]

    def add(self, other: Labelled) -> None:
        """Add ``other``'s tallies and drops (a later partition's); its comparisons are not kept."""
        self.tallies.update(other.tallies)
        for step, c in other.drops.items():
            self.drops.setdefault(step, Counter()).update(c)


def posted_comparisons(c: Corpus, counts: Counter | None = None) -> list[dict]:
    """One comparison per (outcome, pair of groups) with a posted two-group analysis.

    Where several analyses compare the same two groups (methods, populations, time points, subscales), their
    known answers must agree: then the first known one is the label (``n_posted_analyses`` keeps the count);
    where they disagree the pair is dropped and counted in ``counts`` (``analyses_disagree``).
    """
    counts = counts if counts is not None else Counter()
    out = []
    for outcome_id, rows in sorted(c.analyses.items()):
        by_pair: dict[frozenset, list[dict]] = defaultdict(list)
        for r in rows:
            gids = r["group_ids"] or []
            if len(gids) != 2:
                counts["analysis_of_" + ("one_group" if len(gids) < 2 else "three_or_more_groups")] += 1
            elif gids[0] == gids[1] or not all(g in c.groups for g in gids):
                counts["analysis_groups_not_posted"] += 1
            else:
                by_pair[frozenset(gids)].append(r)
        for _, rs in sorted(by_pair.items(), key=lambda kv: kv[1][0]["analysis_index"]):
            g1, g2 = rs[0]["group_ids"]
            a, b, src = roles(c, g1, g2, rs[0])
            recs = [comparison(c, outcome_id, a, b, src, r, len(rs)) for r in rs]
            known = [r for r in recs if answer_known(r)]
            if len(known) > 1 and not _compatible(known):
                counts["analyses_disagree"] += 1
                continue
            if len(rs) > 1:
                counts["several_analyses_merged"] += len(rs) - 1
            chosen = next((r for r in known if r["p_ci_check"] != "disagree"), known[0] if known else recs[0])
            out.append(chosen)
    return out


def computed_comparisons(c: Corpus) -> list[dict]:
    """Comparisons from per-arm values where no analysis was posted for that pair of groups (posted analyses that
    were dropped, their answers disagreeing, are not replaced by a test of the package's own)."""
    have = {
        (oid, frozenset(r["group_ids"]))
        for oid, rows in c.analyses.items()
        for r in rows
        if len(r["group_ids"] or []) == 2
    }
    out = []
    for outcome_id in sorted(c.groups_by_outcome):
        gids = [g for g in c.groups_by_outcome[outcome_id] if c.value(g)]
        for g1, g2 in itertools.combinations(sorted(gids), 2):
            if (outcome_id, frozenset((g1, g2))) in have:
                continue
            v1, v2 = c.value(g1), c.value(g2)
            if v1.param_type != v2.param_type or L.compare_arms(v1, v2) is None:
                # no test applies, whichever group is the reference: the comparison would have no label
                continue
            a, b, src = roles(c, g1, g2)
            rec = comparison(c, outcome_id, a, b, src, None, 0)
            if rec["significance_source"] is not None:
                out.append(rec)
    return out


def label_corpus(c: Corpus) -> Labelled:
    """Every labelled comparison of ``c`` (posted analyses first, then per-arm tests) and the funnel of the
    steps: analyses -> two-group comparisons -> comparisons with a known answer -> arm comparisons -> p/CI agree,
    each step's drops being :func:`exclusion`'s reasons (dose cohorts of one arm kept: ``strict_dose`` keeps them)."""
    drops: Counter = Counter()
    posted = posted_comparisons(c, drops)
    computed = computed_comparisons(c)
    comps = posted + computed
    by_step: dict[str, Counter] = defaultdict(Counter)
    by_step["analysis"] = Counter({k: v for k, v in drops.items() if k.startswith("analysis_")})
    if drops["analyses_disagree"]:
        by_step["pair"] = Counter({"analyses_disagree": drops["analyses_disagree"]})
    for r in comps:
        why = exclusion(r, dose_cohorts_ok=True)
        if why is not None:
            step, _, reason = why.partition(":")
            by_step[step][reason or step] += 1
    tallies = Counter(
        analyses=sum(len(v) for v in c.analyses.values()),
        posted=len(posted),
        computed=len(computed),
        merged=drops["several_analyses_merged"],
    )
    return Labelled(comps, c, tallies, dict(by_step))


def all_comparisons(c: Corpus) -> list[dict]:
    return label_corpus(c).comparisons
