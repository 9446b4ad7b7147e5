"""`deepimagine submit` / `deepimagine leaderboard` on CT Open Winter 2025's real 605 questions.

Three seeded forecasters answer every real question (JSONL and CT Open's pickle shape, one and two runs); their stored
rows must equal `deepimagine score`'s figures; each kind of bad submission is refused with a message naming it and
leaves the store untouched; the rendered page is opened in headless Chromium (Debian's, driven by playwright) at
1366x900 and checked the way a person reads it: one line per row and no sideways scrolling, names, figures, the
chance and majority reference rows, the per-category toggle, the sticky model column, the notes detail, sorting by a
click, the calibration plots and how many answers each bar holds.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from deepimagine_data import leaderboard as lb
from deepimagine_data.hub import folder_fingerprint
from deepimagine_data.scoring.metrics import CATEGORIES, METRICS, reliability
from deepimagine_data.scoring.questions import Question, bench_questions, ctopen_questions
from deepimagine_data.scoring.submission import check, read_predictions, score, scored

CHROMIUM = Path("/usr/bin/chromium")
REPO_HUB = Path(__file__).resolve().parents[1] / "hub"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Name B carries markup and an ampersand: the page must show it as text, never as an element.
MODELS = {
    "A": dict(name="calibrated-0.7", revision="a1b2c3d", cutoff="2024-06-30", at="2025-06-01T10:00:00Z"),
    "B": dict(name="Overconfident <b>B</b> & co", revision="v2.0", cutoff="2025-03-01", at="2025-06-02T11:30:00Z"),
    "C": dict(name="timid_0.55", revision="rev-3", cutoff="2023-12-31", at=None),  # time from SOURCE_DATE_EPOCH
}
EPOCH_C = 1751371200  # 2025-07-01T12:00:00Z


def _decision(probs: list[float]) -> str:
    return "REASON: a seeded synthetic forecaster.\n\nDECISION: (" + ", ".join(f"{p:.4f}" for p in probs) + ")"


def forecasts(questions: list[Question], *, p_right: float, confidence: float, seed: int) -> dict:
    """Right with probability ``p_right`` (else a random wrong option), stating ``confidence`` for its pick."""
    rng = np.random.default_rng(seed)
    out = {}
    for q in questions:
        n = q.n_options
        pick = (
            q.answer_index if rng.random() < p_right else int(rng.choice([i for i in range(n) if i != q.answer_index]))
        )
        probs = [(1 - confidence) / (n - 1)] * n
        probs[pick] = confidence
        out[q.key] = _decision(probs)
    return out


def write_jsonl(outputs: dict, path: Path) -> Path:
    lines = [
        json.dumps({"nct_id": k[0], "outcome_measure": k[1], "question_index": k[2], "output": v})
        for k, v in outputs.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def submit_argv(files: list[Path], store: Path, m: dict, **override) -> list[str]:
    fields = {
        "--model-name": m["name"],
        "--model-revision": m["revision"],
        "--training-cutoff": m["cutoff"],
        "--submitted-at": m["at"],
    }
    fields.update(override)
    argv = ["submit", "--predictions", *map(str, files), "--benchmark", "ctopen", "--edition", "winter2025"]
    argv += ["--store", str(store)]
    for k, v in fields.items():
        if v is not None:
            argv += [k, v]
    return argv


@pytest.fixture(scope="module")
def questions(shared_data) -> list[Question]:
    return ctopen_questions("winter2025", shared_data / "ct_open")


@pytest.fixture(scope="module")
def board(questions, tmp_path_factory) -> dict:
    """A store holding the three forecasters, and their prediction files."""
    d = tmp_path_factory.mktemp("submissions")
    files = {
        "A": [write_jsonl(forecasts(questions, p_right=0.7, confidence=0.7, seed=1), d / "a.jsonl")],
        "B": [],
        "C": [write_jsonl(forecasts(questions, p_right=0.55, confidence=0.55, seed=3), d / "c.jsonl")],
    }
    for run in (1, 2):  # B: two runs in CT Open's own pickle shape
        path = d / f"b_run{run}.pickle"
        path.write_bytes(pickle.dumps(forecasts(questions, p_right=0.75, confidence=0.97, seed=20 + run), protocol=4))
        files["B"].append(path)
    store = d / "store"
    mp = pytest.MonkeyPatch()
    try:
        for k, m in MODELS.items():
            if m["at"] is None:
                mp.setenv("SOURCE_DATE_EPOCH", str(EPOCH_C))
            assert lb.main(submit_argv(files[k], store, m, **{"--notes": f"model {k}; notes <i>are</i> text"})) == 0
            mp.delenv("SOURCE_DATE_EPOCH", raising=False)
    finally:
        mp.undo()
    return {"store": store, "files": files, "dir": d}


@pytest.fixture(scope="module")
def bench_hub(request) -> Path:
    """A built bench, whose train split gives the majority row its answer shares: the repository's hub/ when it is
    built, else the session's bench built from the embedded snapshot (about half a minute)."""
    if any((REPO_HUB / "deepimagine" / "bench" / "questions").glob("train-*.parquet")):
        return REPO_HUB
    return request.getfixturevalue("built_bench")


def _by_submission(table) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for r in table.to_pylist():
        out.setdefault(r["model_name"], {})[r["category"]] = r
    return out


def test_stored_rows_are_the_scorers_figures(questions, board):
    table = lb.read_store(board["store"])
    assert table.num_rows == 3 * 4  # three submissions x (overall + three categories)
    rows = _by_submission(table)
    assert set(rows) == {m["name"] for m in MODELS.values()}
    for k, m in MODELS.items():
        files = board["files"][k]
        report = score(questions, files)
        assert report.unreadable == []
        got = rows[m["name"]]
        assert set(got) == {"overall", *CATEGORIES}
        # the pooled reliability bins behind each plot, from the scorer's own reading of every run
        runs = [scored(questions, check(questions, read_predictions(p)))[0] for p in files]
        for cat, r in got.items():
            for metric in METRICS:
                assert r[metric] == report.results[cat][metric], (k, cat, metric)
                # the scorer's 95% interval, stored beside the figure
                lo, hi = r[f"{metric}_ci95_low"], r[f"{metric}_ci95_high"]
                assert [lo, hi] == report.results[cat][f"{metric}_ci95"], (k, cat, metric)
                assert lo < hi
            assert r["questions"] == report.results[cat]["questions"]
            assert r["trials"] == report.results[cat]["trials"]
            assert (r["bootstrap_resamples"], r["bootstrap_seed"]) == (1000, 0)
            # Winter 2025's categories all hold >= 30 questions: overall is CT Open's mean of the three
            assert r["in_overall"] is (None if cat == "overall" else True)
            assert r["runs"] == len(files)
            pooled = [x for run in runs for x in run if cat == "overall" or x.category == cat]
            assert r["reliability"] == reliability(pooled)
            assert sum(b["count"] for b in r["reliability"]) == r["questions"] * len(files)
            assert r["predictions_sha256"] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
            assert r["model_revision"] == m["revision"] and str(r["training_cutoff"]) == m["cutoff"]
            assert (r["benchmark"], r["edition"], str(r["benchmark_cutoff"])) == ("ctopen", "winter2025", "2025-02-01")
        assert got["overall"]["questions"] == 605
        assert got["overall"]["trials"] == 314 and got["2-way explicit"]["trials"] == 249
        assert len({r["submission_id"] for r in got.values()}) == 1
    # contamination: B's training cutoff (2025-03-01) is after Winter 2025's cutoff (2025-02-01)
    flags = {k: rows[m["name"]]["overall"]["training_cutoff_after_benchmark"] for k, m in MODELS.items()}
    assert flags == {"A": False, "B": True, "C": False}
    times = {k: rows[m["name"]]["overall"]["submitted_at"].isoformat() for k, m in MODELS.items()}
    assert times == {
        "A": "2025-06-01T10:00:00+00:00",
        "B": "2025-06-02T11:30:00+00:00",
        "C": "2025-07-01T12:00:00+00:00",
    }


def test_store_is_a_publishable_dataset(board):
    from datasets import load_dataset

    from deepimagine_data.publish import plan

    folder = board["store"] / "deepimagine" / "leaderboard"
    p = plan(folder, "deepimagine/leaderboard", "0.1.0")
    assert p.configs == ("results",)
    assert {f.path for f in p.files} == {"README.md", "results/train-00000-of-00001.parquet"}
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "dataset_info:" in card and "training_cutoff_after_benchmark" in card
    assert "calibrated-0.7" in card  # the standings table
    ds = load_dataset(str(folder), "results", split="train")
    assert ds.num_rows == 12
    assert ds.features["reliability"].feature["accuracy"].dtype == "float64"
    assert ds.features["training_cutoff"].dtype == "date32"
    assert sorted({r["model_name"] for r in ds}) == sorted(m["name"] for m in MODELS.values())


@pytest.mark.parametrize(
    "case",
    ["missing", "duplicate", "malformed", "unknown_key", "wrong_count", "negative", "no_revision", "empty_name",
     "bad_cutoff", "not_iso_cutoff", "cutoff_in_future", "resubmitted"],
)  # fmt: skip
def test_bad_submission_is_refused_naming_the_problem(case, questions, board, tmp_path, capsys):
    store = board["store"]
    before = folder_fingerprint(store / "deepimagine" / "leaderboard")
    good = board["files"]["A"][0]
    lines = good.read_text(encoding="utf-8").splitlines()
    rec = [json.loads(x) for x in lines]
    two_way = next(i for i, q in enumerate(questions) if q.n_options == 2 and i > 10)
    key = rec[two_way]
    bad = tmp_path / "bad.jsonl"
    m = dict(MODELS["A"], revision="other-rev")  # a new identity, so only the planted problem can refuse it
    override: dict = {}
    expect: list[str]
    if case == "missing":
        del rec[two_way]
        expect = ["1 question(s) not answered", key["nct_id"], f", {key['question_index']})"]
    elif case == "duplicate":
        rec.append(dict(rec[two_way]))
        expect = ["1 duplicate answer(s)", key["nct_id"], f", {key['question_index']})"]
    elif case == "malformed":
        rec[two_way]["output"] = "REASON: not sure.\n\nDECISION: maybe"
        expect = ["1 invalid decision(s)", key["nct_id"], "'DECISION: maybe'", "no readable DECISION tuple"]
    elif case == "unknown_key":
        rec[two_way]["nct_id"] = "NCT99999999"
        expect = ["1 unknown key(s)", "NCT99999999", "1 question(s) not answered", key["nct_id"]]
    elif case == "wrong_count":
        rec[two_way]["output"] = _decision([0.2, 0.3, 0.5])
        expect = ["invalid decision", key["nct_id"], "3 probabilities for 2 options"]
    elif case == "negative":
        rec[two_way]["output"] = _decision([-0.2, 1.2])
        expect = ["invalid decision", key["nct_id"], "-0.2 is negative"]
    elif case == "no_revision":
        override = {"--model-revision": None}
        expect = ["model_revision is missing", "--model-revision"]
    elif case == "empty_name":
        override = {"--model-name": "   "}
        expect = ["model_name is empty"]
    elif case == "bad_cutoff":
        override = {"--training-cutoff": "2024-02-30"}
        expect = ["training_cutoff '2024-02-30' is not a calendar date"]
    elif case == "not_iso_cutoff":
        override = {"--training-cutoff": "June 2024"}
        expect = ["training_cutoff 'June 2024' is not an ISO date YYYY-MM-DD"]
    elif case == "cutoff_in_future":
        override = {"--training-cutoff": "2025-06-02"}
        expect = ["training_cutoff 2025-06-02 is after the submission time 2025-06-01"]
    elif case == "resubmitted":
        m = MODELS["A"]
        override = {"--notes": "same predictions, same model, other notes", "--submitted-at": "2025-08-01T00:00Z"}
        expect = ["duplicate submission", "calibrated-0.7 a1b2c3d", "submitted 2025-06-01 10:00 UTC"]
    write_jsonl({(r["nct_id"], r["outcome_measure"], r["question_index"]): r["output"] for r in rec}, bad)
    if case == "duplicate":  # a dict cannot hold the repeated key; write the lines as they are
        bad.write_text("\n".join(json.dumps(r) for r in rec) + "\n", encoding="utf-8")
    files = [good] if case in ("resubmitted",) or override else [bad]
    rc = lb.main(submit_argv(files, store, m, **override))
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: submission refused: ")
    for fragment in expect:
        assert fragment in err, (fragment, err)
    assert folder_fingerprint(store / "deepimagine" / "leaderboard") == before


def _reference_figures(questions, train) -> dict[str, dict]:
    """The package's own chance and majority results on these questions (what the reference rows must show)."""
    from deepimagine_data.baselines.reference import reference_results

    return reference_results(questions, train)


def test_leaderboard_page_in_headless_chromium(board, questions, bench_hub, shared_data, tmp_path):
    """The page as a reader at 1366x900 sees it: one line per row, nothing to scroll sideways, rank and model in view,
    the per-category columns behind a toggle, notes behind a detail, chance and majority rows, sorting by a click,
    reliability bars whose shade and label say how many answers each bin holds."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    out = tmp_path / "site"
    argv = ["leaderboard", "--out", str(out), "--store", str(board["store"])]
    argv += ["--source", str(shared_data / "ct_open"), "--hub", str(bench_hub)]
    assert lb.main(argv) == 0
    page_bytes = (out / "index.html").read_bytes()
    assert lb.main(argv) == 0
    assert (out / "index.html").read_bytes() == page_bytes  # same store, same page
    rows = _by_submission(lb.read_store(board["store"]))
    sid = {name: r["overall"]["submission_id"] for name, r in rows.items()}
    name_of = {v: k for k, v in sid.items()}
    refs = _reference_figures(questions, bench_questions(bench_hub, "train"))

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            requests, errors = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "index.html").as_uri())
            table = page.locator("table.lb")
            assert table.count() == 1
            assert page.locator("h2").inner_text() == "CT Open winter2025"
            box = page.locator("div.scroll")

            def overflow() -> dict:
                return page.evaluate(
                    """() => { const d = document.documentElement, s = document.querySelector('div.scroll');
                       return {page: d.scrollWidth - d.clientWidth, box: s.scrollWidth - s.clientWidth}; }"""
                )

            def heights() -> list[float]:
                return table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")

            # the default view at 1366 px: no sideways scrolling anywhere, every row (references too) one line
            assert overflow() == {"page": 0, "box": 0}
            assert len(heights()) == 5 and max(heights()) < 40, heights()
            shown_head = [t.strip() for t in table.locator("thead th:visible").all_inner_texts()]
            assert [h.split("\n")[0] for h in shown_head] == [
                "#", "model", "overall", "n", "training cutoff", "submitted", "notes",
                "bal. acc ↑", "x-entropy ↓", "ECE ↓",
            ]  # fmt: skip

            def order() -> list[str]:
                return [name_of[s] for s in table.locator("tbody tr[data-submission]").evaluate_all(
                    "rows => rows.map(r => r.dataset.submission)")]  # fmt: skip

            def all_order() -> list[str]:
                return table.locator("tbody tr").evaluate_all(
                    "rows => rows.map(r => r.dataset.reference || r.querySelector('.name').textContent)"
                )

            # every model's name as text (B's markup is shown, not rendered), best overall balanced accuracy first
            shown = table.locator("tr[data-submission] td[data-col=model] .name").all_inner_texts()
            assert sorted(shown) == sorted(rows)
            assert table.locator("b, i").count() == 0
            by_ba = sorted(rows, key=lambda n: -rows[n]["overall"]["balanced_accuracy"])
            assert order() == by_ba
            ranks = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.cells[0].textContent)")
            assert ranks == ["1", "2", "3", "—", "—"]  # the references (0.5) fall below every entry here, unranked
            flagged = table.locator("tr", has=page.locator(".flag")).locator(".name").all_inner_texts()
            assert flagged == [MODELS["B"]["name"]]

            # the reference rows: the package's chance and majority, on the board's own 605 questions, muted
            for model in ("chance", "majority"):
                ref = table.locator(f'tr.ref[data-reference="{model}"]')
                assert ref.count() == 1
                for metric in ("balanced_accuracy", "cross_entropy", "ece"):
                    r = refs[model]["overall"]
                    lo, hi = r[f"{metric}_ci95"]
                    cell = ref.locator(f'td[data-col="overall.{metric}"]').inner_text()
                    assert cell == f"{r[metric]:.4f} {lo:.3f}–{hi:.3f}", (model, metric)
                assert ref.locator('td[data-col="questions"]').inner_text() == "605"
            assert refs["chance"]["overall"]["cross_entropy"] != refs["majority"]["overall"]["cross_entropy"]
            color = "e => getComputedStyle(e).color"
            assert table.locator("tr.ref td.num").first.evaluate(color) != table.locator(
                "tr[data-submission] td.num").first.evaluate(color)  # fmt: skip

            # the per-category columns sit behind the toggle: hidden, shown (the wide table scrolls in its own box,
            # the page still does not), hidden again
            cat_head = table.locator('th[data-col="2way_explicit.balanced_accuracy"]')
            toggle = page.locator("button.toggle")
            assert not cat_head.is_visible() and toggle.get_attribute("aria-expanded") == "false"
            toggle.click()
            assert cat_head.is_visible() and toggle.get_attribute("aria-expanded") == "true"
            assert table.locator("thead th:visible").count() == 7 + 1 + 3 + 3 + 2 + 3 * 5
            wide = overflow()
            assert wide["page"] == 0 and wide["box"] > 0
            assert max(heights()) < 40

            # each figure as the store holds it, formatted as rendered (4 decimals), its 95% interval beside it
            cells = page.evaluate(
                """() => Array.from(document.querySelectorAll('table.lb tbody tr[data-submission]')).map(r =>
                     [r.dataset.submission, Object.fromEntries(Array.from(r.querySelectorAll('td[data-col]')).map(
                         td => [td.dataset.col, td.innerText.trim()]))])"""
            )
            assert len(cells) == 3
            for s, shown_cells in cells:
                for cat, r in rows[name_of[s]].items():
                    for metric in METRICS:
                        interval = f"{r[metric + '_ci95_low']:.3f}–{r[metric + '_ci95_high']:.3f}"
                        assert shown_cells[lb.col_id(cat, metric)] == f"{r[metric]:.4f} {interval}", (
                            name_of[s], cat, metric)  # fmt: skip
                assert shown_cells["training_cutoff"] == str(rows[name_of[s]]["overall"]["training_cutoff"])
                runs = rows[name_of[s]]["overall"]["runs"]
                assert shown_cells["questions"] == "605" + (f" ×{runs}" if runs > 1 else "")
            # the interval on the figure's line, smaller
            cell = table.locator('td[data-col="overall.balanced_accuracy"]').first
            v_box, ci_box = cell.locator(".v").bounding_box(), cell.locator(".ci").bounding_box()
            assert ci_box["x"] > v_box["x"] + v_box["width"] - 1 and abs(ci_box["y"] - v_box["y"]) < v_box["height"]
            assert cell.locator(".ci").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") < cell.locator(
                ".v").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")  # fmt: skip
            # each category's questions and trials in its header, how overall is made above the table
            heads = page.locator("th[scope=colgroup]").all_inner_texts()
            assert "2-way explicit\n470 questions, 249 trials" in heads
            assert "overall\nmean of 2-way implicit, 2-way explicit, 3-way explicit" in heads
            rule = page.locator("p.rule").inner_text()
            assert "at least 30 questions" in rule and "1,000 resamples of the trials, seed 0" in rule

            # rank and model stay in view while the wide table scrolls; the figures move under them
            model_cell = table.locator("tbody tr td.model").first
            figure_cell = table.locator('tbody tr td[data-col="overall.ece"]').first
            before = (model_cell.bounding_box()["x"], figure_cell.bounding_box()["x"])
            box.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
            after = (model_cell.bounding_box()["x"], figure_cell.bounding_box()["x"])
            assert box.evaluate("e => e.scrollLeft") > 0
            assert after[0] == pytest.approx(before[0], abs=1) and after[1] < before[1] - 100
            rank_box, model_box = table.locator("tbody td.rank").first.bounding_box(), model_cell.bounding_box()
            assert model_box["x"] >= rank_box["x"] + rank_box["width"] - 1  # the model is not hidden under the rank
            box.evaluate("e => { e.scrollLeft = 0; }")

            # a click on a metric header re-sorts: ECE best (lowest) first, then reversed on a second click; the
            # reference rows sort with the entries
            ece = table.locator('th[data-col="overall.ece"] button')
            by_ece = sorted(rows, key=lambda n: rows[n]["overall"]["ece"])
            assert by_ece != by_ba  # the data make the click visible
            ece.click()
            assert order() == by_ece
            assert table.locator('th[data-col="overall.ece"]').get_attribute("aria-sort") == "ascending"
            everyone = {**{n: rows[n]["overall"]["ece"] for n in rows}, **{m: refs[m]["overall"]["ece"] for m in refs}}
            assert all_order() == sorted(everyone, key=everyone.get)
            ece.click()
            assert order() == by_ece[::-1]
            table.locator('th[data-col="model"] button').click()
            assert order() == sorted(rows, key=str.casefold)  # the page sorts text as a reader does (locale)
            table.locator('th[data-col="2way_explicit.balanced_accuracy"] button').click()
            assert order() == sorted(rows, key=lambda n: -rows[n]["2-way explicit"]["balanced_accuracy"])

            toggle.click()
            assert not cat_head.is_visible() and toggle.get_attribute("aria-expanded") == "false"
            assert overflow() == {"page": 0, "box": 0}

            # the notes open in a detail over the table: the row keeps its one line
            row_a = table.locator(f'tr[data-submission="{sid[MODELS["A"]["name"]]}"]')
            pop = row_a.locator("td.detail .pop")
            assert not pop.is_visible()
            row_a.locator("summary").click()
            assert row_a.locator("details").evaluate("d => d.open") and pop.is_visible()
            assert pop.locator("p.note").inner_text() == "model A; notes <i>are</i> text"
            assert "revision a1b2c3d" in pop.inner_text() and "submitted 2025-06-01 10:00 UTC" in pop.inner_text()
            assert row_a.bounding_box()["height"] < 40 and overflow()["page"] == 0

            # one inline SVG reliability diagram per submission, drawn and labelled; each bar says its answers
            figs = page.locator("figure")
            assert figs.count() == 3
            for i in range(3):
                svg = figs.nth(i).locator("svg.calibration")
                name = name_of[figs.nth(i).get_attribute("data-submission")]
                assert name in svg.get_attribute("aria-label")
                svg_box = svg.bounding_box()
                assert svg_box and svg_box["width"] > 100 and svg_box["height"] > 100
                stored = rows[name]["overall"]
                bins = [b for b in stored["reliability"] if b["count"]]
                bars = svg.locator("rect.bin")
                assert bars.count() == len(bins) > 0
                for j, b in enumerate(bins):
                    assert int(bars.nth(j).get_attribute("data-count")) == b["count"]
                    assert float(bars.nth(j).get_attribute("fill-opacity")) == lb.bin_opacity(b["count"])
                labels = svg.locator("text.count").all_text_contents()
                assert labels == [f"{b['count']}" if b["count"] < 1000 else f"{b['count'] / 1000:.1f}k" for b in bins]
                caption = figs.nth(i).locator("figcaption").inner_text()
                assert f"overall ECE {stored['ece']:.4f}" in caption
                assert f"n = {stored['questions'] * stored['runs']:,} answers" in caption
            assert errors == []
            assert all(u.startswith("file://") for u in requests), requests  # nothing fetched from a network
        finally:
            browser.close()


def test_reliability_bars_fade_with_fewer_answers(questions, tmp_path):
    """A forecaster whose confidence spreads over the bins: each bar's opacity grows with its answers (solid from
    lb.SOLID_BIN on), and its count is written over it, so a bin of a few answers is told from a full one."""
    rng = np.random.default_rng(7)
    outputs = {}
    for q in questions:
        conf = float(rng.uniform(1 / q.n_options + 0.01, 0.99))
        probs = [(1 - conf) / (q.n_options - 1)] * q.n_options
        probs[q.answer_index if rng.random() < conf else (q.answer_index + 1) % q.n_options] = conf
        outputs[q.key] = _decision(probs)
    path = write_jsonl(outputs, tmp_path / "spread.jsonl")
    items = scored(questions, check(questions, read_predictions(path)))[0]
    bins = [b for b in reliability(items) if b["count"]]
    counts = [b["count"] for b in bins]
    assert min(counts) < 20 and max(counts) >= lb.SOLID_BIN  # real data: thin and full bins on one plot
    svg = lb.calibration_svg(reliability(items), "spread")
    opacity = [float(x) for x in re.findall(r'class="bin" data-count="\d+"[^>]*fill-opacity="([0-9.]+)"', svg)]
    shown_counts = [int(x) for x in re.findall(r'class="bin" data-count="(\d+)"', svg)]
    assert shown_counts == counts and len(opacity) == len(counts)
    by_count = sorted(zip(counts, opacity, strict=True))
    assert all(a[1] <= b[1] for a, b in zip(by_count, by_count[1:], strict=False))  # more answers, never fainter
    assert by_count[0][1] < 0.5 and by_count[-1][1] == lb.bin_opacity(lb.SOLID_BIN) == 0.9
    assert re.findall(r'<text class="count"[^>]*>([^<]+)</text>', svg) == [str(c) for c in counts]


def test_reference_rows_say_what_is_missing(board, questions, shared_data, tmp_path, monkeypatch):
    """Without the bench, a board shows chance only and says majority needs the train split; without CT Open's
    pickles, or with other questions than the board's, it shows none and says why. Nothing is downloaded."""
    table = lb.read_store(board["store"])
    refs = lb.board_references(table, source=shared_data / "ct_open", hub=tmp_path / "no-hub")
    got = refs[("ctopen", "winter2025")]
    assert [e.model_name for e in got.entries] == ["chance"]
    assert got.note.startswith("Chance only: majority needs the bench train split (no deepimagine/bench under ")
    chance = _reference_figures(questions, [])["chance"]["overall"]
    assert got.entries[0].value("overall", "brier") == chance["brier"]
    md = lb.render_markdown(table, references=refs)
    line = next(ln for ln in md.splitlines() if ln.startswith("| — |"))
    assert line.startswith("| — | *chance* (reference) | – | – | – | 0.5000 (0.500–0.500) |")
    assert "Chance only: majority needs the bench train split" in md

    monkeypatch.delenv("DEEPIMAGINE_CTOPEN_DIR", raising=False)
    monkeypatch.setenv("DEEPIMAGINE_CACHE", str(tmp_path / "empty-cache"))
    none = lb.board_references(table)[("ctopen", "winter2025")]
    assert none.entries == () and "CT Open winter2025's questions are not here" in none.note
    page = lb.render_html(table, {("ctopen", "winter2025"): none})
    assert 'class="ref"' not in page and "CT Open winter2025&#x27;s questions are not here" in page

    # a board scored on a subset: the edition's 605 questions are not its questions, so no reference rows
    subset = questions[:300]
    path = write_jsonl(forecasts(subset, p_right=0.7, confidence=0.7, seed=1), tmp_path / "sub.jsonl")
    report = score(subset, [path])
    meta = lb.check_metadata(model_name="m", model_revision="r1", training_cutoff="2024-01-01", benchmark="ctopen",
                             edition="winter2025", submitted_at="2025-06-01T00:00:00Z")  # fmt: skip
    rows = lb._rows("f" * 64, meta, report, report.items, ["0" * 64], lb.questions_fingerprint(subset))
    other = lb.board_references(pa.Table.from_pylist(rows, schema=lb.SCHEMA), source=shared_data / "ct_open")
    assert other[("ctopen", "winter2025")].entries == ()
    assert "the 605 questions found are not those this board was scored on" in other[("ctopen", "winter2025")].note


def test_markdown_table_lists_every_submission(board, tmp_path):
    out = tmp_path / "site"
    _, md_path = lb.render(board["store"], out)
    md = md_path.read_text(encoding="utf-8")
    rows = _by_submission(lb.read_store(board["store"]))
    table = [ln for ln in md.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert len(table) == 3
    ranked = sorted(rows, key=lambda n: -rows[n]["overall"]["balanced_accuracy"])
    for rank, (line, name) in enumerate(zip(table, ranked, strict=True), start=1):
        r = rows[name]["overall"]
        assert line.startswith(f"| {rank} | {lb.md_escape(name)}")
        # rank, model, revision, cutoff, runs; overall's five figures; each category's balanced accuracy
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert cells[5:10] == [f"{r[m]:.4f} ({r[m + '_ci95_low']:.3f}–{r[m + '_ci95_high']:.3f})" for m in METRICS]
        for cat, cell in zip(CATEGORIES, cells[10:], strict=True):
            c = rows[name][cat]
            ci = f"({c['balanced_accuracy_ci95_low']:.3f}–{c['balanced_accuracy_ci95_high']:.3f})"
            assert cell == f"{c['balanced_accuracy']:.4f} {ci}", (name, cat)
    assert "Questions per category: 2-way implicit: 80 questions, 53 trials; 2-way explicit: 470 questions" in md
    assert "1,000 resamples of the trials, seed 0" in md
    assert "Overconfident \\<b\\>B\\</b\\> & co †" in md  # escaped markup and the contamination mark
    assert "<b>" not in md
    # the chance reference row, unranked, from the board's own questions ($DEEPIMAGINE_CTOPEN_DIR); no bench given
    chance = [ln for ln in md.splitlines() if ln.startswith("| — | *chance* (reference) |")]
    assert len(chance) == 1 and "| 0.5000 (0.500–0.500) |" in chance[0]
    assert "Chance only: majority needs the bench train split (no bench given" in md


def test_store_from_before_the_intervals_reads_renders_and_takes_new_entries(board, questions, tmp_path):
    """A store written without the interval columns reads with them null, renders without intervals, and a new
    submission appended to it carries its own."""
    import shutil

    import pyarrow.parquet as pq

    old = tmp_path / "old"
    shutil.copytree(board["store"], old)
    shard = old / "deepimagine" / "leaderboard" / "results" / "train-00000-of-00001.parquet"
    table = pq.read_table(shard)
    pq.write_table(table.drop_columns(list(lb.INTERVAL_COLUMNS)), shard)
    assert not set(lb.INTERVAL_COLUMNS) & set(pq.read_table(shard).column_names)

    read = lb.read_store(old)
    assert read.schema == lb.SCHEMA and read.num_rows == 12
    assert all(read[c].null_count == 12 for c in lb.INTERVAL_COLUMNS)
    md = lb.render_markdown(read)
    assert "–0." not in md and "(not in overall)" not in md
    assert f"{_by_submission(read)['calibrated-0.7']['overall']['balanced_accuracy']:.4f} |" in md
    assert 'class="ci"' not in lb.render_html(read)

    m = dict(MODELS["C"], revision="after-the-upgrade", at="2025-07-02T00:00:00Z")
    assert lb.main(submit_argv(board["files"]["C"], old, m)) == 0
    rows = _by_submission(lb.read_store(old))
    assert rows["timid_0.55"]["overall"]["balanced_accuracy_ci95_low"] is not None
    assert rows["calibrated-0.7"]["overall"]["balanced_accuracy_ci95_low"] is None
    page = lb.render_html(lb.read_store(old))
    assert page.count('class="ci"') == 4 * len(METRICS)  # the new entry's figures only


def test_a_small_category_is_shown_but_left_out_of_overall(questions, tmp_path):
    """3-way explicit cut to 12 questions: its row is stored with n and interval, marked not in overall, and the
    page and Markdown say how overall is made."""
    subset = [q for q in questions if q.category != "3-way explicit"]
    subset += [q for q in questions if q.category == "3-way explicit"][:12]
    path = write_jsonl(forecasts(subset, p_right=0.7, confidence=0.7, seed=1), tmp_path / "sub.jsonl")
    report = score(subset, [path])
    meta = lb.check_metadata(model_name="m <i>x</i>", model_revision="r1", training_cutoff="2024-01-01",
                             benchmark="ctopen", edition="winter2025", submitted_at="2025-06-01T00:00:00Z")  # fmt: skip
    rows = lb._rows("f" * 64, meta, report, report.items, ["0" * 64], lb.questions_fingerprint(subset))
    by = {r["category"]: r for r in rows}
    assert by["3-way explicit"]["in_overall"] is False and by["2-way explicit"]["in_overall"] is True
    assert by["overall"]["questions"] == 80 + 470
    assert by["overall"]["balanced_accuracy"] == pytest.approx(
        (by["2-way implicit"]["balanced_accuracy"] + by["2-way explicit"]["balanced_accuracy"]) / 2, abs=1e-15
    )
    assert by["3-way explicit"]["balanced_accuracy_ci95_low"] is not None
    # overall's reliability plot pools the categories overall is made of
    assert sum(b["count"] for b in by["overall"]["reliability"]) == 550
    table = pa.Table.from_pylist(rows, schema=lb.SCHEMA)
    md = lb.render_markdown(table)
    assert "3-way explicit: 12 questions" in md and "(not in overall)" in md
    assert "left out (too few questions): 3-way explicit" in md
    page = lb.render_html(table)
    assert "12 questions" in page and "not in overall" in page
    assert "mean of 2-way implicit, 2-way explicit<" in page
    assert "<i>x</i>" not in page and "m &lt;i&gt;x&lt;/i&gt;" in page  # escaping as before
