"""`deepimagine build --input SPEC`: every input kind on real records shipped with the repository (the package's
AACT oncology subset and curated sources, three ClinicalTrials.gov API v2 studies in tests/fixtures/ctgov), the
duplicate-trial rule, ingest and build giving the same tables, and every bad input stopped before anything is
written."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from deepimagine_data.cli import main
from deepimagine_data.inputs import Input, InputError, read_inputs
from deepimagine_data.schema import TABLES
from deepimagine_data.snapshot import data_dir

CTGOV = Path(__file__).parent / "fixtures" / "ctgov"
AACT = data_dir() / "aact_oncology"  # AACT parquet tables, as a user's parquet folder would hold them
DOSE = data_dir() / "dose_response"
FIXTURE_IDS = {"NCT00763412", "NCT02210780", "NCT02552212"}  # NCT02278341.json holds NCT02552212


@pytest.mark.parametrize(
    ("spec", "kind", "path"),
    [
        ("embedded", "embedded", None),
        ("aact:/data/aact.zip", "aact", "/data/aact.zip"),
        ("ctgov:dl/", "ctgov", "dl/"),
        ("ctgov-json:dl", "ctgov", "dl"),
        ("tables:out", "tables", "out"),
        ("dose-response:x", "dose_response", "x"),
        ("CLINIFACT:c.tar.gz", "clinifact", "c.tar.gz"),
    ],
)
def test_parse(spec, kind, path):
    assert Input.parse(spec) == Input(kind, path)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("pubmed:x", "unknown kind 'pubmed'"),
        ("aact", "expected aact:PATH"),
        ("aact:", "expected aact:PATH"),
        ("embedded:x", "'embedded' takes no path"),
    ],
)
def test_parse_refuses(spec, message):
    with pytest.raises(InputError, match=message):
        Input.parse(spec)


def _bad_inputs(tmp: Path) -> list[tuple[str, str]]:
    """(spec, what the error must name) for each kind of bad input."""
    (tmp / "empty").mkdir()
    (tmp / "notaact").mkdir()
    (tmp / "notaact" / "readme.txt").write_text("not an AACT table")
    good = tmp / "aact.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("studies.txt", "nct_id|brief_title\nNCT00000001|x\n" * 200)
    (tmp / "truncated.zip").write_bytes(good.read_bytes()[:-40])
    (tmp / "plain.txt").write_text("hello")
    (tmp / "notv2").mkdir()
    (tmp / "notv2" / "a.json").write_text('{"title": "not an API v2 study"}')
    (tmp / "csvs").mkdir()
    (tmp / "csvs" / "a.csv").write_text("a,b\n1,2\n")
    (tmp / "halftables").mkdir()
    pa.parquet.write_table(TABLES["trials"].empty_table(), tmp / "halftables" / "trials.parquet")
    return [
        (f"aact:{tmp / 'missing'}", "no such file or folder"),
        (f"aact:{tmp / 'empty'}", "is empty"),
        (f"aact:{tmp / 'notaact'}", "holds neither studies.txt nor studies.parquet"),
        (f"aact:{tmp / 'truncated.zip'}", "not a zip archive, or a truncated one"),
        (f"aact:{tmp / 'plain.txt'}", "not a zip archive"),
        (f"ctgov:{tmp / 'notv2'}", "no trial read from"),
        (f"ctgov:{tmp / 'csvs'}", "is not a .json/.jsonl file"),
        (f"tables:{tmp / 'halftables'}", "lacks arms.parquet"),
        (f"tables:{tmp / 'empty'}", "is empty"),
    ]


def test_bad_inputs_stop_before_anything_is_written(tmp_path, capsys):
    import pyarrow.parquet  # noqa: F401  (pa.parquet above)

    for spec, message in _bad_inputs(tmp_path):
        out = tmp_path / "hub"
        # a good input first: the bad one is found by the check of every input, before any is read
        assert main(["build", "--input", f"ctgov:{CTGOV}", "--input", spec, "--out", str(out), "--no-approx"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --input ") and message in err, (spec, err)
        assert spec.split(":", 1)[1] in err or Path(spec.split(":", 1)[1]).name in err  # names the file
        assert not out.exists(), spec


def test_each_input_kind_reads_real_records(tmp_path):
    ctgov = read_inputs([f"ctgov:{CTGOV}"])
    assert set(ctgov.tables["trials"].column("trial_id").to_pylist()) == FIXTURE_IDS
    assert ctgov.tables["measurements"].num_rows > 100  # per-arm values, which the AACT subset lacks
    (src,) = ctgov.sources
    assert src.source == "ctgov_api_v2" and src.version.startswith("ctgov:ctgov@") and "public domain" in src.license
    versions = set(ctgov.tables["trials"].column("source_version").to_pylist())
    assert versions == {src.version}  # the rows carry the input's fingerprint

    aact = read_inputs([f"aact:{AACT}"])
    assert aact.tables["trials"].num_rows > 5000 and aact.sources[0].source == "aact"
    dose = read_inputs([f"dose_response:{DOSE}"])
    assert dose.sources[0].source == "dose_response" and dose.tables["measurements"].num_rows > 300
    embedded = read_inputs(None)
    assert {s.source for s in embedded.sources} == {"aact", "llm_meta_analysis", "dose_response", "clinifact"}
    assert any("GPL-3.0" in s.license for s in embedded.sources)  # the embedded subset's own provenance

    # ingest writes what `build --input` reads: the same tables either way, names normalized in both
    assert main(["ingest", "ctgov-json", str(CTGOV), "--out", str(tmp_path / "t")]) == 0
    tables = read_inputs([f"tables:{tmp_path / 't'}"])
    for name in TABLES:
        a, b = ctgov.tables[name], tables.tables[name]
        if name == "trials":
            a, b = a.drop_columns(["source_version"]), b.drop_columns(["source_version"])
        assert a.equals(b), name
    assert tables.sources[0].source == "ctgov_api_v2" and "read from tables:t@" in tables.sources[0].version


def test_a_trial_two_inputs_hold_is_kept_from_the_first(tmp_path):
    assert main(["ingest", "ctgov-json", str(CTGOV), "--out", str(tmp_path / "t")]) == 0
    both = read_inputs([f"ctgov:{CTGOV}", f"tables:{tmp_path / 't'}"])
    assert both.tables["trials"].num_rows == 3
    assert set(both.tables["trials"].column("source_version").to_pylist()) == {both.sources[0].version}
    assert both.duplicates == {"tables:t": 3}
    with pytest.raises(InputError, match="given twice"):
        read_inputs([f"ctgov:{CTGOV}", f"ctgov:{CTGOV}"])


def test_build_from_aact_and_api_v2_gives_per_arm_pairs(tmp_path, capsys, monkeypatch):
    """The issue's command: AACT tables plus a folder of API v2 studies -> the hub datasets, with strict pairs from
    those studies' per-arm measurements, loadable with datasets, and cards that name the inputs."""
    from datasets import load_dataset

    out = tmp_path / "hub"
    argv = ["build", "--input", f"aact:{AACT}", "--input", f"ctgov:{CTGOV}", "--out", str(out), "--no-approx"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"ctgov:{CTGOV}" in printed and "deepimagine/pairs" in printed
    monkeypatch.chdir(out)
    arm = load_dataset("deepimagine/pairs", "strict_arm")
    rows = [r for split in arm.values() for r in split if r["source"] == "ctgov_api_v2"]
    assert {r["nct_id"] for r in rows} <= FIXTURE_IDS and rows
    per_arm = [r for r in rows if r["a_value"] is not None and r["b_value"] is not None]
    assert per_arm and all("public domain" in r["license"] for r in rows)
    # NCT02210780 O10, change in a score: the posted analysis decides, the per-arm values are kept beside it
    r = next(r for r in per_arm if r["pair_id"] == "strict_arm:NCT02210780:O10:OG000|OG001")
    assert (r["a_value"], r["b_value"], r["computed_test"]) == (-4.8, -13.1, "welch_t")
    assert r["significance_source"] == "posted_p_value"
    trials_card = (out / "deepimagine" / "trials" / "README.md").read_text()
    pairs_card = (out / "deepimagine" / "pairs" / "README.md").read_text()
    for card in (trials_card, pairs_card):
        # an input by its kind and folder name, told apart by its fingerprint; no folder of the building machine
        assert "| `aact:aact_oncology` | aact |" in card and "| `ctgov:ctgov` | ctgov_api_v2 |" in card
        assert "`ctgov:ctgov@" in card and "`aact:aact_oncology@" in card
        assert str(CTGOV.parent) not in card and str(AACT.parent) not in card
    # what the AACT subset lacks is read from its rows, and the per-arm API v2 studies are not said to lack it
    assert "`aact` rows have no per-arm outcome values" in trials_card
    assert "`ctgov_api_v2` rows have no per-arm" not in trials_card
    n_aact = pc.sum(pc.equal(load_dataset("deepimagine/trials", "trials")["train"].data.column("source"), "aact"))
    assert n_aact.as_py() > 5000


def test_approximate_pairs_come_from_the_builds_own_inputs():
    """approx and pathways retrieve anchors among the inputs the build read, not the embedded sample."""
    from deepimagine_data import pipeline

    opts = pipeline.BuildOptions(inputs=(f"ctgov:{CTGOV}",))
    result = pipeline.approx_pairs(opts)
    assert result.retrieval.neighbours and set(result.retrieval.neighbours) <= FIXTURE_IDS
    for table in result.tables.values():
        assert set(table.column("trial_id").to_pylist()) <= FIXTURE_IDS
        assert set(table.column("source").to_pylist()) <= {"ctgov_api_v2"}


def test_rows_take_the_license_of_their_own_input():
    """Two inputs with the same source name and different licenses (a user's AACT dump: public-domain records;
    the embedded AACT subset: a GPL compilation): each row carries its own input's license."""
    from deepimagine_data.pairs.strict import trial_context
    from deepimagine_data.snapshot import EMBEDDED as SHIPPED

    both = read_inputs([f"aact:{AACT}", "embedded"])
    licenses = both.licenses()
    row = both.tables["trials"].slice(0, 1).to_pylist()[0]
    assert row["source"] == "aact" and row["source_version"].startswith("aact:aact_oncology@")
    assert "public domain" in trial_context(row, licenses)["license"]
    shipped = next(s for s in SHIPPED if s.name == "aact")
    embedded_row = {**row, "source_version": shipped.source_version}
    assert trial_context(embedded_row, licenses)["license"] == shipped.license and "GPL" in shipped.license
