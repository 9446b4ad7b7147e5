"""`deepimagine submit` / `deepimagine leaderboard` on CT Open Winter 2025's real 605 questions.

Three seeded forecasters answer every real question (JSONL and CT Open's pickle shape, one and two runs); their stored
rows must equal `deepimagine score`'s figures; each kind of bad submission is refused with a message naming it and
leaves the store untouched; the rendered page is opened in headless Chromium (Debian's, driven by playwright) and
checked the way a person reads it: names, figures, sorting by a click, the calibration plots.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from deepimagine_data import leaderboard as lb
from deepimagine_data.hub import folder_fingerprint
from deepimagine_data.scoring.metrics import CATEGORIES, METRICS, reliability
from deepimagine_data.scoring.questions import Question, ctopen_questions
from deepimagine_data.scoring.submission import check, read_predictions, score, scored

CHROMIUM = Path("/usr/bin/chromium")
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


def test_leaderboard_page_in_headless_chromium(board, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    out = tmp_path / "site"
    assert lb.main(["leaderboard", "--out", str(out), "--store", str(board["store"])]) == 0
    page_bytes = (out / "index.html").read_bytes()
    assert lb.main(["leaderboard", "--out", str(out), "--store", str(board["store"])]) == 0
    assert (out / "index.html").read_bytes() == page_bytes  # same store, same page
    rows = _by_submission(lb.read_store(board["store"]))
    sid = {name: r["overall"]["submission_id"] for name, r in rows.items()}
    name_of = {v: k for k, v in sid.items()}

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requests, errors = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "index.html").as_uri())
            table = page.locator("table.lb")
            assert table.count() == 1
            assert page.locator("h2").inner_text() == "CT Open winter2025"

            def order() -> list[str]:
                return [name_of[s] for s in table.locator("tbody tr").evaluate_all(
                    "rows => rows.map(r => r.dataset.submission)")]  # fmt: skip

            # every model's name as text (B's markup is shown, not rendered), best overall balanced accuracy first
            shown = table.locator("td[data-col=model] .name").all_inner_texts()
            assert sorted(shown) == sorted(rows)
            assert table.locator("b, i").count() == 0
            by_ba = sorted(rows, key=lambda n: -rows[n]["overall"]["balanced_accuracy"])
            assert order() == by_ba
            flagged = table.locator("tr", has=page.locator(".flag")).locator(".name").all_inner_texts()
            assert flagged == [MODELS["B"]["name"]]

            # each figure as the store holds it, formatted as rendered (4 decimals), its 95% interval under it
            cells = page.evaluate(
                """() => Array.from(document.querySelectorAll('table.lb tbody tr')).map(r => [r.dataset.submission,
                     Object.fromEntries(Array.from(r.querySelectorAll('td[data-col]')).map(
                         td => [td.dataset.col, td.innerText.trim()]))])"""
            )
            assert len(cells) == 3
            for s, shown_cells in cells:
                for cat, r in rows[name_of[s]].items():
                    for metric in METRICS:
                        interval = f"{r[metric + '_ci95_low']:.3f}–{r[metric + '_ci95_high']:.3f}"
                        assert shown_cells[lb.col_id(cat, metric)] == f"{r[metric]:.4f}\n{interval}", (
                            name_of[s], cat, metric)  # fmt: skip
                assert shown_cells["training_cutoff"] == str(rows[name_of[s]]["overall"]["training_cutoff"])
            # the interval is drawn under the figure, smaller
            cell = table.locator('td[data-col="overall.balanced_accuracy"]').first
            v_box, ci_box = cell.locator(".v").bounding_box(), cell.locator(".ci").bounding_box()
            assert ci_box["y"] >= v_box["y"] + v_box["height"] - 1
            assert cell.locator(".ci").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") < cell.locator(
                ".v").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")  # fmt: skip
            # each category's questions and trials in its header, how overall is made above the table
            heads = page.locator("th[scope=colgroup]").all_inner_texts()
            assert "2-way explicit\n470 questions, 249 trials" in heads
            assert "overall\nmean of 2-way implicit, 2-way explicit, 3-way explicit" in heads
            rule = page.locator("p.rule").inner_text()
            assert "at least 30 questions" in rule and "1,000 resamples of the trials, seed 0" in rule

            # a click on a metric header re-sorts: ECE best (lowest) first, then reversed on a second click
            ece = table.locator('th[data-col="overall.ece"] button')
            by_ece = sorted(rows, key=lambda n: rows[n]["overall"]["ece"])
            assert by_ece != by_ba  # the data make the click visible
            ece.click()
            assert order() == by_ece
            assert table.locator('th[data-col="overall.ece"]').get_attribute("aria-sort") == "ascending"
            ece.click()
            assert order() == by_ece[::-1]
            table.locator('th[data-col="model"] button').click()
            assert order() == sorted(rows, key=str.casefold)  # the page sorts text as a reader does (locale)
            table.locator('th[data-col="2way_explicit.balanced_accuracy"] button').click()
            assert order() == sorted(rows, key=lambda n: -rows[n]["2-way explicit"]["balanced_accuracy"])

            # one inline SVG reliability diagram per submission, drawn and labelled
            figs = page.locator("figure")
            assert figs.count() == 3
            for i in range(3):
                svg = figs.nth(i).locator("svg.calibration")
                name = name_of[figs.nth(i).get_attribute("data-submission")]
                assert name in svg.get_attribute("aria-label")
                box = svg.bounding_box()
                assert box and box["width"] > 100 and box["height"] > 100
                bins = [b for b in rows[name]["overall"]["reliability"] if b["count"]]
                assert svg.locator("rect.bin").count() == len(bins) > 0
                assert (
                    f"overall ECE {rows[name]['overall']['ece']:.4f}" in figs.nth(i).locator("figcaption").inner_text()
                )
            assert errors == []
            assert all(u.startswith("file://") for u in requests), requests  # nothing fetched from a network
        finally:
            browser.close()


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
