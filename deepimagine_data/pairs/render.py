"""TRL-standard text for pairs and questions, from the versioned templates in ``deepimagine_data/templates/``.

A pair row gets ``prompt`` and ``completion`` (TRL's standard prompt-completion format) and ``messages`` (TRL's
conversational format: the same text as a user and an assistant turn). The completion ends with CT Open's decision
line ``DECISION: (p1, p2[, p3])`` with probability 1 on the known answer.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template

TEMPLATE_VERSION = "pairs-v2"
DECISION_RE = re.compile(r"DECISION:\s*\(([^)]*)\)")


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


def decision_line(n: int, answer: int) -> str:
    return ", ".join("1.0" if i == answer else "0.0" for i in range(n))


def parse_decision(text: str) -> list[float] | None:
    """The probabilities of the last decision line in ``text`` (None when there is none or it does not parse)."""
    m = list(DECISION_RE.finditer(text or ""))
    if not m:
        return None
    try:
        return [float(x) for x in m[-1].group(1).split(",")]
    except ValueError:
        return None


def arm_block(title: str, desc: str | None, dose_text: str | None, dose_unit: str | None) -> str:
    s = f'study arm "{title}"'
    if desc and desc.strip() and desc.strip() != title:
        s += f" — {_clip(desc)}"
    if dose_text:
        s += f" (dose: {dose_text}{'' if dose_unit else '; unit not stated in the source'})"
    return s


def _clip(s: str, n: int = 400) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def outcome_block(o: dict) -> str:
    parts = [f"outcome measure: {o['title']}"]
    if o.get("outcome_type"):
        parts.append(f"type: {o['outcome_type'].lower()}")
    if o.get("time_frame"):
        parts.append(f"time frame: {_clip(o['time_frame'], 200)}")
    if o.get("unit_of_measure"):
        parts.append(f"unit: {o['unit_of_measure']}")
    if o.get("population_description"):
        # two outcomes of one trial often differ only here ("Full analysis set - ATM negative population")
        parts.append(f"analysis population: {_clip(o['population_description'], 250)}")
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


def render_pair(row: dict, anchor_block: str, change_block: str, target_block: str) -> dict:
    """Fill ``prompt``/``completion``/``messages`` for a pair row holding ``options`` and ``answer_index``."""
    tp, tc, sha = templates()
    prompt = tp.substitute(
        **trial_fields(row),
        **options_fields(row["options"]),
        anchor_block=anchor_block,
        changed_factor=row["changed_factor"],
        change_block=change_block,
        target_block=target_block,
    ).strip()
    return text_fields(row, prompt, tc, TEMPLATE_VERSION, sha)


def text_fields(row: dict, prompt: str, completion_template: Template, version: str, sha: str) -> dict:
    """``prompt``/``completion`` (TRL prompt-completion), ``messages`` (conversational) and the template's
    version and hash; the completion is the row's rationale and its decision line."""
    completion = completion_template.substitute(
        rationale=row["rationale"], decision=decision_line(len(row["options"]), row["answer_index"])
    ).strip()
    return {
        "prompt": prompt,
        "completion": completion,
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}],
        "template_version": version,
        "template_sha256": sha,
    }
