"""TRL-standard text for pairs and questions, from the versioned templates in ``deepimagine_data/templates/``.

A pair row gets ``prompt`` and ``completion`` (TRL's standard prompt-completion format) and ``messages`` (TRL's
conversational format: the same text as a user and an assistant turn).

The completion is what a model may imitate: a short reasoning built only from facts the prompt states (the changed
factor, the anchor's known result where there is one) and CT Open's decision line ``DECISION: (p1, p2[, p3])``. The
target's own posted evidence (p-value, estimate, CI, per-arm values, the wording of its significance) never appears
in it; it stays in the row's fields and its ``rationale`` column, for verification and analysis.

The decision line's probabilities come from a :class:`TargetRule` (default ``smooth:0.2``: 0.8 on the known answer,
0.2 shared by the other options), not a one-hot vector: one-hot targets teach a model to state certainty it cannot
have, and a model that imitates them scores a cross-entropy of ~11 on CT Open at 60% accuracy (uniform: 0.69).

Registry text is cleaned before it is shown (:func:`clean_text`, :func:`clip`): AACT's ``~`` line separators become
sentence breaks, long texts are cut at a word boundary, and the intervention descriptions the registry appends to
every result group are left to the arms that name them (:func:`strip_intervention_lines`).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template

TEMPLATE_VERSION = "pairs-v3"
DEFAULT_TARGETS = "smooth:0.2"


@dataclass(frozen=True)
class TargetRule:
    """How the decision line of a template completion spreads probability over the options.

    ``smooth:EPS`` puts ``1 - EPS`` on the known answer and shares ``EPS`` equally among the other options
    (label smoothing onto the wrong options); ``onehot`` is ``smooth:0``. ``EPS`` is below 0.5 so that the known
    answer always keeps the highest probability (the argmax, which CT Open's accuracy reads, is the label).

    >>> TargetRule.parse("smooth:0.2").probabilities(3, 1)
    [0.1, 0.8, 0.1]
    >>> TargetRule.parse("onehot").line(2, 0)
    '1.0, 0.0'
    """

    epsilon: float = 0.2

    @property
    def name(self) -> str:
        return "onehot" if self.epsilon == 0 else f"smooth:{self.epsilon:g}"

    @classmethod
    def parse(cls, spec: str | TargetRule | None) -> TargetRule:
        if isinstance(spec, TargetRule):
            return spec
        spec = (spec or DEFAULT_TARGETS).strip().lower()
        if spec == "onehot":
            return cls(0.0)
        kind, _, value = spec.partition(":")
        try:
            eps = float(value)
        except ValueError:
            eps = None
        if kind != "smooth" or eps is None or not 0 <= eps < 0.5:
            raise ValueError(f"target rule {spec!r}: expected 'onehot' or 'smooth:EPS' with 0 <= EPS < 0.5")
        return cls(eps)

    def probabilities(self, n: int, answer: int) -> list[float]:
        if not 0 <= answer < n:
            raise ValueError(f"answer index {answer} out of range for {n} options")
        rest = round(self.epsilon / (n - 1), 4)
        return [round(1 - self.epsilon, 4) if i == answer else rest for i in range(n)]

    def line(self, n: int, answer: int) -> str:
        return ", ".join(repr(p) for p in self.probabilities(n, answer))

    def expected_cross_entropy(self, n: int, accuracy: float) -> float:
        """CT Open's cross-entropy of a model that reproduces these targets and picks the right option with
        probability ``accuracy`` (its wrong picks put ``EPS / (n - 1)`` on the truth, floored at 1e-12)."""
        probs = self.probabilities(n, 0)
        return -(accuracy * math.log(max(probs[0], 1e-12)) + (1 - accuracy) * math.log(max(probs[1], 1e-12)))


def template_dir(version: str = TEMPLATE_VERSION) -> Path:
    return Path(str(resources.files("deepimagine_data") / "templates" / version))


@lru_cache(maxsize=4)
def templates(version: str = TEMPLATE_VERSION) -> tuple[Template, Template, str]:
    d = template_dir(version)
    p, c = (d / "prompt.txt").read_text(encoding="utf-8"), (d / "completion.txt").read_text(encoding="utf-8")
    sha = hashlib.sha256((p + "\0" + c).encode()).hexdigest()
    return Template(p), Template(c), sha


def fmt_num(x: float | None) -> str:
    if x is None:
        return "not posted"
    if x == 0:
        return "0"
    if abs(x) >= 1000 or abs(x) < 0.001:
        return f"{x:.3g}"
    return f"{x:.4g}"


def options_for(rec: dict, a: str, b: str) -> tuple[str, list[str], int | None]:
    """(question_type, options, answer_index) for the comparison of ``b`` against ``a`` in ``rec``.

    A 3-way comparative question (CT Open's wording) only where the benefit is known from the data; otherwise the
    2-way any-difference question — which is what CT Open's metric collapses its 3-way questions to — so that
    which questions exist never depends on the answer.
    """
    if rec["is_non_inferiority"]:
        what = ni_kind(rec)
        opts = [
            f"{what} of study arm {b} versus study arm {a} is shown for this endpoint.",
            f"{what} of study arm {b} versus study arm {a} is not shown for this endpoint.",
        ]
        ans = {"shown": 0, "not_shown": 1}.get(rec["ni_result"])
        return "non_inferiority_2way", opts, ans
    if rec["benefit"] in ("better", "worse", "no_difference"):
        opts = [
            f"Study Arm {a} is statistically significantly worse than Study Arm {b}.",
            f"Study Arm {b} is statistically significantly worse than Study Arm {a}.",
            f"No statistically significant difference between Study Arm {b} and Study Arm {a}.",
        ]
        ans = {"compared_better": 0, "compared_worse": 1, "no_significant_difference": 2}.get(rec["decision3"])
        return "comparative_3way", opts, ans
    opts = [
        f"There is a statistically significant difference between study arm {b} and study arm {a} for this endpoint.",
        f"There is no statistically significant difference between study arm {b} and study arm {a} for this endpoint.",
    ]
    ans = {"significant": 0, "not_significant": 1}.get(rec["significance"])
    return "difference_2way", opts, ans


def ni_kind(rec: dict) -> str:
    """ "Equivalence" where the record posts two margins, "Non-inferiority" where it posts one, else both words."""
    lo, hi = rec.get("ni_margin_lower"), rec.get("ni_margin_upper")
    if lo is not None and hi is not None:
        return "Equivalence"
    if lo is not None or hi is not None:
        return "Non-inferiority"
    return "Non-inferiority (or equivalence)"


def superiority_options(a: str, b: str) -> list[str]:
    """CT Open's 2-way explicit (superiority) wording, word for word."""
    return [
        f"The study arm {b} has achieved statistically significant improvements over the study arm {a} with respect "
        "to this specific endpoint.",
        f"The study arm {b} has not achieved statistically significant improvements over the study arm {a} with "
        "respect to this specific endpoint, either because of no statistical effect or worse effect.",
    ]


def arm_block(
    title: str, desc: str | None, dose_text: str | None, dose_unit: str | None, *, show_dose: bool = True
) -> str:
    """One arm as the prompts show it: title, cleaned description, and the dose where it tells the arms apart
    (``show_dose=False`` where the other arm shows the same dose: then the dose is not the difference, and showing
    it on both would hide the one there is)."""
    s = f'study arm "{title}"'
    text = clean_text(desc)
    if text and text != title:
        s += f" — {clip(text).rstrip('.;, ')}"
    if dose_text and show_dose and not _states(text, dose_text):
        unit = "" if dose_unit or "not stated" in dose_text else "; unit not stated in the source"
        s += f" (dose: {dose_text}{unit})"
    return s


def _states(text: str, dose_text: str) -> bool:
    """Whether ``text`` already states the dose ``dose_text`` ("25 (units not stated in source)" is stated by
    "dose (units not stated in source): 25"), so that it is not shown twice."""
    core = dose_text.split(" (")[0].strip()
    return bool(core) and re.search(rf"(?<![\w.]){re.escape(core)}(?!\w|\.\d)", text) is not None


def arm_pair_blocks(rec: dict) -> tuple[str, str]:
    """(arm ``a``, arm ``b``) blocks of a comparison, doses shown only where they differ."""
    show = rec["a_dose_text"] != rec["b_dose_text"]
    return tuple(  # type: ignore[return-value]
        arm_block(
            rec[f"{s}_title"], rec[f"{s}_description"], rec[f"{s}_dose_text"], rec[f"{s}_dose_unit"], show_dose=show
        )
        for s in ("a", "b")
    )


# AACT's flat files turn every line break inside a value into "~" (aact_flat.py); a "~" before a number after a
# space or bracket is the "approximately" sign and stays.
_TILDE = re.compile(r"\s*(?:~(?!(?<=[\s(]~) ?\d)|\n)\s*")


@lru_cache(maxsize=16_384)  # a trial's arm and outcome texts recur in every pair of the trial
def clean_text(s: str | None) -> str:
    """Registry text on one line: AACT's ``~`` line breaks become sentence breaks (a period where the line had no
    closing punctuation), whitespace collapsed.

    >>> clean_text("Patients receive no perioperative fluorouracil.~After surgery, 5-FU was given~~on days 1-5")
    'Patients receive no perioperative fluorouracil. After surgery, 5-FU was given. On days 1-5'
    >>> clean_text("every ~12 weeks up to 72 weeks, then every ~ 24 weeks")
    'every ~12 weeks up to 72 weeks, then every ~ 24 weeks'
    """
    if not s:
        return ""
    parts = [p.strip() for p in _TILDE.split(s)]
    out = ""
    for p in (p for p in parts if p):
        if not out:
            out = p
        elif out[-1] in ".;:!?,":
            out += " " + p
        else:
            out += ". " + (p[0].upper() + p[1:])
    return re.sub(r"\s+", " ", out).strip()


def clip(s: str, n: int = 400) -> str:
    """``s`` on one line, cut at a word boundary to at most ``n`` characters (an ellipsis marks the cut).

    >>> clip("Cisplatin 75 mg/m2 on day 1 of each 21-day cycle", 30)
    'Cisplatin 75 mg/m2 on day 1…'
    """
    s = re.sub(r"\s+", " ", s).strip()
    if len(s) <= n:
        return s
    cut = s[: n - 1]
    space = cut.rfind(" ")
    if space >= n // 2:  # a word boundary not far back; a single huge token is cut where it must be
        cut = cut[:space]
    return cut.rstrip(" ,;:-—") + "…"


def strip_intervention_lines(desc: str | None, interventions: list[tuple[str, str | None]]) -> str | None:
    """A result group's description without the ``<intervention name>: <intervention description>`` lines the
    registry appends to every group of a trial (the same text in each arm, whether or not the arm receives that
    intervention in that form).

    NCT00002525's "No Perioperative 5-FU" group, posted as "Patients receive no perioperative fluorouracil.~After
    surgery (...) 5-FU was given at a dose of 425 mg/m^2 (...)~fluorouracil: Perioperative 5-FU: 600 mg/m^2/d x 7
    days continuous IV, beginning within 24 hours of surgery~After surgery, 5-FU was given 425 mg/m^2 (...)~leucovorin
    calcium: given after surgery (...)", keeps its first two lines: the perioperative schedule is the other arm's.
    """
    if not desc:
        return desc
    out = desc
    low = desc.lower()
    # longest first: an intervention whose name starts another's ("5-FU" / "5-FU and leucovorin"); only the exact
    # appended line goes (an arm's own "Cisplatin: 75 mg/m2 on day 1" is the arm's text and stays)
    for name, text in sorted(interventions, key=lambda x: -len(x[0] or "")):
        if name and text and f"{name.lower()}:" in low:  # the cheap test first: most groups append nothing
            pat = r"(?:^|(?<=[~\n]))\s*" + re.escape(f"{name}: {text.strip()}") + r"\s*(?=[~\n]|$)"
            out = re.sub(pat, "", out, flags=re.IGNORECASE)
    out = _EMPTY_LINES.sub("", out).strip("~\n ")
    return out or desc


_EMPTY_LINES = re.compile(r"[~\n]\s*(?=[~\n]|$)")


def outcome_block(o: dict) -> str:
    parts = [f"outcome measure: {o['title']}"]
    if o.get("outcome_type"):
        parts.append(f"type: {o['outcome_type'].lower()}")
    if o.get("time_frame"):
        parts.append(f"time frame: {clip(clean_text(o['time_frame']), 200).rstrip('.;, ')}")
    if o.get("unit_of_measure"):
        parts.append(f"unit: {o['unit_of_measure']}")
    if o.get("population_description"):
        # two outcomes of one trial often differ only here ("Full analysis set - ATM negative population")
        parts.append(f"analysis population: {clip(clean_text(o['population_description']), 250).rstrip('.;, ')}")
    return "; ".join(parts)


def arm_value_text(rec: dict, side: str) -> str | None:
    v = rec[f"{side}_value"]
    if v is None:
        return None
    pt = rec["param_type"]
    n = rec[f"{side}_n"]
    if pt == "COUNT_OF_PARTICIPANTS" and n:
        return f"{fmt_num(v)} of {n} participants ({100 * v / n:.1f}%)"
    spread = rec[f"{side}_spread"]
    dt = (rec[f"{side}_dispersion_type"] or "").lower().replace("_", " ")
    s = f"{(pt or 'value').lower().replace('_', ' ')} {fmt_num(v)}"
    if spread is not None:
        s += f" ({dt} {fmt_num(spread)})"
    if n:
        s += f", n = {n}"
    return s


def result_text(rec: dict) -> str:
    """What the source says about the comparison of ``b`` against ``a`` (the known result or the rationale)."""
    a, b = rec["a_title"], rec["b_title"]
    parts = []
    va, vb = arm_value_text(rec, "a"), arm_value_text(rec, "b")
    if va and vb:
        parts.append(f'Per-arm results: "{a}" {va}; "{b}" {vb}.')
    if rec["significance_source"] == "posted_p_value":
        mod = rec["p_value_modifier"] or "="
        method = f" ({rec['statistical_method']})" if rec["statistical_method"] else ""
        sides = "one-sided " if rec.get("p_value_sides") == 1 else ""
        alpha_sides = {1: "one-sided ", 2: "two-sided "}.get(rec.get("alpha_sides"), "")
        p, alpha = fmt_num(rec["p_value"]), fmt_num(rec["alpha"])
        parts.append(f"The posted analysis{method} gives a {sides}p {mod} {p} at {alpha_sides}alpha {alpha}.")
    elif rec["significance_source"] == "posted_ci":
        parts.append(
            f"The posted confidence interval of the estimate gives the significance at {fmt_num(rec['alpha'])}."
        )
    elif rec["significance_source"] == "posted_margin":
        margins = " and ".join(fmt_num(m) for m in (rec["ni_margin_lower"], rec["ni_margin_upper"]) if m is not None)
        parts.append(f"The posted {ni_kind(rec).lower()} analysis is judged by its confidence interval against the "
                     f"margin {margins}.")  # fmt: skip
    elif rec["significance_source"] == "computed_test":
        name = {"fisher_exact": "Fisher's exact test", "welch_t": "Welch's t-test"}.get(rec["computed_test"], "a test")
        parts.append(
            f"No analysis was posted; {name} on the per-arm values gives p = {fmt_num(rec['computed_p_value'])} "
            f"(alpha {fmt_num(rec['alpha'])})."
        )
    if rec["estimate_type"] and rec["estimate_value"] is not None:
        ci = ""
        if rec["ci_lower"] is not None and rec["ci_upper"] is not None:
            ci = f" (CI {fmt_num(rec['ci_lower'])} to {fmt_num(rec['ci_upper'])})"
        parts.append(f"Estimate: {rec['estimate_type']} {fmt_num(rec['estimate_value'])}{ci}.")
    sig = {
        "significant": "statistically significant",
        "not_significant": "not statistically significant",
        "unknown": "of unknown significance",
    }[rec["significance"]]
    if rec["is_non_inferiority"]:
        shown = {"shown": "shown", "not_shown": "not shown"}.get(rec["ni_result"], "of unknown result")
        parts.append(f'{ni_kind(rec)} of "{b}" versus "{a}" is {shown}.')
    else:
        s = f'The difference between "{b}" and "{a}" is {sig}'
        if rec["benefit"] in ("better", "worse"):
            rule = rec["benefit_polarity"].replace("_is_", " is ").replace("_", " ")
            if rec["direction_source"] == "estimate_with_reference":
                rule = f"by the {rec['estimate_type']}, {rule}"
            elif rec["direction_source"] == "estimate_favour_statement":
                rule = f"by the {rec['estimate_type']} and the posted statement of which values favour which arm"
            elif rec["direction_source"] == "one_sided_superiority_test":
                rule = "by the one-sided superiority test of the experimental arm"
            num = "" if rec["significance"] == "significant" else "numerically "
            s += f'; "{b}" is {num}{rec["benefit"]} on this outcome ({rule})'
        elif rec["direction"] in ("higher", "lower"):
            num = "" if rec["significance"] == "significant" else "numerically "
            s += f'; "{b}" is {num}{rec["direction"]} (whether that is better is not known from the data)'
        parts.append(s + ".")
    return " ".join(parts)


def trial_fields(trial: dict) -> dict:
    """The trial header every template opens with (pairs and benchmark questions alike)."""
    return {
        "nct_id": trial["nct_id"] or trial["trial_id"],
        "brief_title": trial["brief_title"] or "(no title posted)",
        "phase": (trial["phase"] or "not stated").replace("_", " ").lower(),
        "conditions": "; ".join(trial["conditions"] or []) or "not stated",
    }


def options_fields(options: list[str]) -> dict:
    """The numbered options and the matching ``DECISION: (p1, ...)`` slots."""
    return {
        "options_block": "\n".join(f"{i}. {o}" for i, o in enumerate(options)),
        "decision_slots": ", ".join(f"p{i + 1}" for i in range(len(options))),
    }


def render_pair(
    row: dict,
    anchor_heading: str,
    anchor_block: str,
    change_block: str,
    target_block: str,
    reasoning: str,
    targets: TargetRule | str | None = None,
) -> dict:
    """Fill ``prompt``/``completion``/``messages`` for a pair row holding ``options`` and ``answer_index``."""
    tp, tc, sha = templates()
    prompt = tp.substitute(
        **trial_fields(row),
        **options_fields(row["options"]),
        anchor_heading=anchor_heading,
        anchor_block=anchor_block,
        changed_factor=row["changed_factor"],
        change_block=change_block,
        target_block=target_block,
    ).strip()
    return text_fields(row, prompt, tc, TEMPLATE_VERSION, sha, reasoning, targets)


def text_fields(
    row: dict,
    prompt: str,
    completion_template: Template,
    version: str,
    sha: str,
    reasoning: str,
    targets: TargetRule | str | None = None,
) -> dict:
    """``prompt``/``completion`` (TRL prompt-completion), ``messages`` (conversational), the target rule and the
    template's version and hash; the completion is ``reasoning`` (facts of the prompt only) and the decision line."""
    rule = TargetRule.parse(targets)
    completion = ""
    # no question for this answer (answer_index None): the caller counts the row out, there is nothing to complete
    if row["answer_index"] is not None:
        completion = completion_template.substitute(
            reasoning=reasoning, decision=rule.line(len(row["options"]), row["answer_index"])
        ).strip()
    return {
        "prompt": prompt,
        "completion": completion,
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}],
        "target_rule": rule.name,
        "template_version": version,
        "template_sha256": sha,
    }


_DECISION_LINE = re.compile(r"DECISION:\s*\([^)]*\)")


def retarget(completion: str, n_options: int, answer: int, targets: TargetRule | str) -> str:
    """``completion`` with its last decision line's probabilities set by ``targets`` (what ``train sft --targets``
    does to the template completions; a dataset built with one rule trains with another without a rebuild).

    >>> retarget("The arm changes.\\n\\nDECISION: (0.2, 0.8)", 2, 1, "onehot")
    'The arm changes.\\n\\nDECISION: (0.0, 1.0)'
    """
    found = list(_DECISION_LINE.finditer(completion))
    if not found:
        raise ValueError(f"no DECISION line in completion {completion[-80:]!r}")
    m = found[-1]
    line = f"DECISION: ({TargetRule.parse(targets).line(n_options, answer)})"
    return completion[: m.start()] + line + completion[m.end() :]


def known_result(rec: dict) -> str:
    """A known comparison's result in words (no numbers): what a reasoning may start from.

    >>> known_result({"is_non_inferiority": False, "significance": "significant", "benefit": "worse",
    ...               "a_title": "Hormone Therapy + Radiation Therapy", "b_title": "Radiation Therapy Alone"})
    '"Radiation Therapy Alone" was statistically significantly worse than "Hormone Therapy + Radiation Therapy"'
    """
    a, b = rec["a_title"], rec["b_title"]
    if rec["is_non_inferiority"]:
        shown = {"shown": "was shown", "not_shown": "was not shown"}.get(rec.get("ni_result"), "is not known")
        return f'{ni_kind(rec).lower()} of "{b}" versus "{a}" {shown}'
    if rec["significance"] == "significant":
        if rec["benefit"] in ("better", "worse"):
            return f'"{b}" was statistically significantly {rec["benefit"]} than "{a}"'
        return f'"{b}" and "{a}" differed statistically significantly (which is better is not known)'
    if rec["significance"] == "not_significant":
        return f'"{b}" and "{a}" did not differ statistically significantly'
    return f'whether "{b}" and "{a}" differed is not known'
