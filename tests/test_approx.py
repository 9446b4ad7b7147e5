"""Approximate pairs and pathways on the embedded real data: factors recomputed from the two trials, no anchor from
the future or from another split, the label is the target's own result, steps walk anchor -> target."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("faiss")

from deepimagine_data import pipeline  # noqa: E402
from deepimagine_data.pairs import approx as ap  # noqa: E402
from deepimagine_data.pairs.factors import FACTORS, diff, sides_from_tables  # noqa: E402
from deepimagine_data.pairs.render import options_for  # noqa: E402
from deepimagine_data.scoring.decision import parse_decision  # noqa: E402


@pytest.fixture(scope="module")
def built():
    """config -> split -> table for approx and pathways, and the build info (the same cached build as the builder)."""
    from deepimagine_data.builders import pairs

    tables, info = pairs.build_tables()
    return {k: tables[k] for k in ("approx", "pathways")}, info


@pytest.fixture(scope="module")
def rows(built):
    tables, _ = built
    return {cfg: [(split, r) for split, t in by.items() for r in t.to_pylist()] for cfg, by in tables.items()}


@pytest.fixture(scope="module")
def comparisons():
    return {c["comparison_id"]: c for c in pipeline.comparisons()}


def test_enough_pairs_and_pathways(rows):
    # the bar: >= 2,000 approx pairs, pathways for >= 500 targets with >= 3 anchors each
    assert len(rows["approx"]) >= 2000
    per_target = Counter(r["comparison_id"] for _, r in rows["pathways"])
    assert sum(1 for n in per_target.values() if n >= 3) >= 500
    assert max(per_target.values()) <= ap.ApproxOptions().pathway_anchors


def test_changed_factors_recompute_from_the_two_trials(rows, comparisons):
    """Every row's changed/unknown factors and their details equal the factor diff of the two comparisons."""
    tables, _ = pipeline.corpus()
    idx = sides_from_tables(tables)
    checked = 0
    for cfg in ("approx", "pathways"):
        for _, r in rows[cfg]:
            anchor, target = comparisons[r["anchor_comparison_id"]], comparisons[r["comparison_id"]]
            assert anchor["trial_id"] == r["anchor_trial_id"] and target["trial_id"] == r["trial_id"]
            d = diff(idx.side(anchor), idx.side(target))
            assert r["changed_factors"] == list(d.changed), r.get("pair_id") or r["pathway_id"]
            assert r["unknown_factors"] == list(d.unknown)
            assert {x["factor"]: x["detail"] for x in r["factor_details"]} == d.details
            assert r["changed_factors"], "an anchor with nothing changed is no counterfactual"
            checked += 1
    assert checked >= 2500


def test_no_anchor_posted_after_its_target_or_in_another_split(built, rows):
    _, info = built
    asg = info["assignment"]
    for cfg in ("approx", "pathways"):
        for split, r in rows[cfg]:
            a_key, t_key = asg.key[r["anchor_trial_id"]], asg.key[r["trial_id"]]
            assert a_key != t_key, "anchor and target are the same registry trial"
            assert r["anchor_nct_id"] != r["nct_id"]
            assert asg.date[a_key] == r["anchor_results_first_posted_date"]
            assert asg.date[t_key] == r["results_first_posted_date"]
            assert ap.posted_before(r["anchor_results_first_posted_date"], r["results_first_posted_date"])
            assert asg.split[r["anchor_trial_id"]] == split == asg.split[r["trial_id"]]


def test_anchor_rule_on_real_trials(built):
    """The eligibility rule itself, on real trials: earlier and same split passes; later, same day, another split,
    the same registry trial under another source, and a listed train anchor do not."""
    _, info = built
    asg = info["assignment"]
    tables, _ = pipeline.corpus()
    dated = sorted((d, t) for t, k in asg.key.items() if (d := asg.date[k]) is not None and asg.split[t] == "train")
    (_, early), (d1, late) = dated[0], next(x for x in dated if x[0] > dated[0][0])
    assert ap._eligible_anchor(late, early, asg, {})
    assert not ap._eligible_anchor(early, late, asg, {})  # from the future
    assert not ap._eligible_anchor(late, early, asg, {"ctopen_winter2025": {asg.key[early]}})
    same_day = next(t for d, t in dated if d == d1 and t != late)
    assert not ap._eligible_anchor(late, same_day, asg, {})
    test_trial = next(t for t, k in asg.key.items() if asg.split[t] == "test")
    assert not ap._eligible_anchor(test_trial, early, asg, {})
    # CliniFact rows of AACT trials carry their own trial_id but the same NCT key
    dup = [r["trial_id"] for r in tables["trials"].select(["trial_id", "nct_id"]).to_pylist() if r["nct_id"]]
    by_key = Counter(asg.key[t] for t in dup)
    twin_key = next(k for k, n in by_key.items() if n > 1)
    a, b = [t for t in dup if asg.key[t] == twin_key][:2]
    assert not ap._eligible_anchor(a, b, asg, {})


def test_listed_trials_are_not_train_anchors(built, rows):
    _, info = built
    listed = set().union(*info["decontamination"].lists.values()) if info["decontamination"].lists else set()
    for cfg in ("approx", "pathways"):
        for split, r in rows[cfg]:
            if split == "train":
                assert r["anchor_nct_id"] not in listed and r["nct_id"] not in listed


def test_winter2025_trials_never_anchor_train_rows(built, rows, ctopen_dir):
    _, info = built
    winter = info["decontamination"].lists.get("ctopen_winter2025")
    assert winter and len(winter) == 314
    assert not any(r["anchor_nct_id"] in winter for split, r in rows["approx"] if split == "train")


def test_label_is_the_targets_own_posted_result(rows, comparisons):
    for cfg in ("approx", "pathways"):
        for _, r in rows[cfg]:
            t = comparisons[r["comparison_id"]]
            assert r["significance"] == t["significance"] and r["p_value"] == t["p_value"]
            qt, opts, ans = options_for(t, t["a_title"], t["b_title"])
            assert (r["question_type"], r["options"], r["answer_index"]) == (qt, opts, ans)
            assert parse_decision(r["completion"], len(r["options"])).decided() == r["answer_index"]
            # the prompt shows the anchor's result, never the target's
            assert r["anchor_result"] in r["prompt"]
            assert r["rationale"] not in r["prompt"]


def test_pathway_steps_walk_the_changed_factors_in_order(rows):
    order = ap.DEFAULT_ORDER
    for _, r in rows["pathways"]:
        steps = r["steps"]
        assert r["order"] == list(order)
        assert [s["factor"] for s in steps] == [f for f in order if f in r["changed_factors"]]
        assert [s["step"] for s in steps] == list(range(1, len(steps) + 1)) and r["n_steps"] == len(steps)
        assert [s["verifiable"] for s in steps] == [False] * (len(steps) - 1) + [True]
        for s in steps:
            assert s["detail"] in s["prompt"] and f"Step {s['step']} of {len(steps)}" in s["prompt"]
        # the last step arrives at the target: it asks the target's question
        for i, opt in enumerate(r["options"]):
            assert f"{i}. {opt}" in steps[-1]["prompt"]


def test_pathway_anchors_are_distinct_trials_ranked(rows):
    by_target: dict[str, list[dict]] = {}
    for _, r in rows["pathways"]:
        by_target.setdefault(r["comparison_id"], []).append(r)
    for target, rs in by_target.items():
        rs.sort(key=lambda r: r["anchor_rank"])
        assert [r["anchor_rank"] for r in rs] == list(range(1, len(rs) + 1)), target
        assert len({r["anchor_trial_id"] for r in rs}) == len(rs)
        keys = [(len(r["changed_factors"]) + len(r["unknown_factors"]), len(r["changed_factors"])) for r in rs]
        assert keys == sorted(keys), target
    # one pathway target per trial
    assert len({r["trial_id"] for rs in by_target.values() for r in rs}) == len(by_target)


def test_retrieval_provenance(rows):
    from deepimagine_data.retrieval import DEFAULT_MODEL, TEXT_VERSION

    r = rows["approx"][0][1]
    assert r["retrieval_model"] == DEFAULT_MODEL and r["text_version"] == TEXT_VERSION
    assert len({x["retrieval_model_revision"] for _, x in rows["approx"]}) == 1
    assert all(0.0 < x["similarity"] <= 1.0 for _, x in rows["approx"])
    assert {x["template_version"] for _, x in rows["approx"]} == {ap.APPROX_TEMPLATE}
    assert {x["template_version"] for _, x in rows["pathways"]} == {ap.PATHWAY_TEMPLATE}


def test_every_factor_occurs(rows):
    seen = Counter(f for _, r in rows["approx"] for f in r["changed_factors"])
    for f in ("intervention", "outcome", "population", "phase", "design"):
        assert seen[f] > 0, f
    assert set(seen) <= set(FACTORS)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("arm,outcome,population,geography,other", ap.DEFAULT_ORDER),
        ("outcome", ("outcome", "intervention", "dose", "population", "geography", "phase", "design")),
        ("population, arm", ("population", "intervention", "dose", "outcome", "geography", "phase", "design")),
        (("design", "phase"), ("design", "phase", "intervention", "dose", "outcome", "population", "geography")),
    ],
)
def test_parse_order(order, expected):
    assert ap.parse_order(order) == expected


def test_parse_order_rejects_unknown_factor():
    with pytest.raises(ValueError, match="unknown factor 'country'"):
        ap.parse_order("arm,country")


def test_custom_order_reorders_steps_only():
    """A build with another order gives the same anchors, with steps in that order (built from the same cache)."""
    from dataclasses import replace

    opts = pipeline.default_options()
    custom = replace(opts, approx=ap.ApproxOptions(order=("outcome",), progress=False))
    base = pipeline.approx_pairs(opts).tables["pathways"]
    other = pipeline.approx_pairs(custom).tables["pathways"]
    assert base.column("pathway_id").to_pylist() == other.column("pathway_id").to_pylist()
    for r in other.to_table().slice(0, 500).to_pylist():
        factors = [s["factor"] for s in r["steps"]]
        if "outcome" in factors:
            assert factors[0] == "outcome"


def test_search_index_by_size_with_recall_reported(built):
    """Splits up to `exact_max` trials are searched exactly; above, HNSW, with its recall@10 against the exact
    search measured on the real trial vectors and reported (cards and build output)."""
    from dataclasses import replace

    _, info = built
    assert all(kind == "flat" and recall is None for kind, recall in info["approx"].retrieval.index.values())
    opts = pipeline.default_options()
    small = replace(opts, approx=ap.ApproxOptions(exact_max=100, progress=False))
    r = pipeline.approx_pairs(small).retrieval
    assert r.index["train"][0] == "hnsw"  # train holds several hundred dated trials, test and validation ~100
    assert all(0.9 <= recall <= 1.0 for kind, recall in r.index.values() if kind == "hnsw")
    assert all(recall is None for kind, recall in r.index.values() if kind == "flat")
    assert "train hnsw (recall@10 " in r.index_summary()


def test_options_validate():
    with pytest.raises(ValueError, match="pathway_anchors"):
        ap.ApproxOptions(pathway_anchors=0)


def test_dates_are_dates(rows):
    r = rows["approx"][0][1]
    assert isinstance(r["anchor_results_first_posted_date"], dt.date)


def test_picker_is_the_anchor_rule(comparisons):
    """The build's anchor picker (one cdist per neighbour, first comparison per outcome) picks what the plain rule
    picks -- same comparison, same rounded outcome similarity -- for real targets against real neighbours."""
    import random
    from collections import defaultdict

    tables, _ = pipeline.corpus()
    oc = tables["outcomes"]
    titles = dict(zip(oc["outcome_id"].to_pylist(), oc["title"].to_pylist(), strict=True))
    by_trial = defaultdict(list)
    for c in ap.labelled(list(comparisons.values())):
        by_trial[c["trial_id"]].append(c)
    rng = random.Random(5)
    trials = sorted(by_trial)
    anchors = ap._Anchors(by_trial, titles)
    checked = ties = 0
    for tid in rng.sample(trials, 80):
        pick = ap._Picker(anchors, by_trial[tid])
        for nid in rng.sample(trials, 15):
            for target in by_trial[tid]:
                plain = ap._pick_anchor(target, by_trial[nid], titles)
                got = pick(target, nid)
                assert (got[0]["comparison_id"], got[1]) == (plain[0]["comparison_id"], plain[1]), (target, nid)
                checked += 1
                best = [c for c in by_trial[nid] if ap.outcome_similarity(target, c, titles) == plain[1]]
                ties += len(best) > 1
    assert pick(by_trial[tid][0], "no such trial") is None
    assert checked > 3_000 and ties > 300  # the tie-break by comparison id is exercised
