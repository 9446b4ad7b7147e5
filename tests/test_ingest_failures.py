"""How ingest fails (issue 16, items 1-4), on small real inputs with one defect injected: the package's AACT oncology
tables (a few studies, as parquet, flat files and a zip) and the ClinicalTrials.gov API v2 studies in
tests/fixtures/ctgov.

Each case checks the exit code through ``deepimagine_data.cli.main``, that the one ``error:`` line names the file and
the field, line or byte, and that tables an earlier run wrote to ``--out`` are left byte for byte as they were.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepimagine_data import tables as tbl
from deepimagine_data.cli import main
from deepimagine_data.errors import RecordError
from deepimagine_data.inputs import InputError, read_inputs
from deepimagine_data.snapshot import data_dir
from deepimagine_data.sources import aact, ctgov_json
from deepimagine_data.sources.aact_flat import write_flat_files

CTGOV = Path(__file__).parent / "fixtures" / "ctgov"
AACT = data_dir() / "aact_oncology"
GOOD_IDS = {"NCT00763412", "NCT02210780", "NCT02552212"}  # NCT02278341.json holds NCT02552212


def cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def error_line(err: str) -> str:
    """The one ``error:`` line of a failed command (no traceback)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith((".tmp-ingest-", ".old-ingest-")))


@pytest.fixture
def earlier(tmp_path, capsys) -> tuple[Path, dict[str, str]]:
    """An --out holding the tables of a good earlier run (the three API v2 fixture studies)."""
    out = tmp_path / "tables"
    assert cli(capsys, "ingest", "ctgov-json", CTGOV, "--out", out)[0] == 0
    before = digest(out)
    assert sorted(before) == sorted(f"{n}.parquet" for n in tbl.TABLES)
    return out, before


def assert_intact(out: Path, before: dict[str, str]) -> None:
    assert digest(out) == before
    assert leftovers(out) == []


# --- item 1: decoding and decompression errors, API v2 JSON ------------------------------------------------


def _study(name: str) -> dict:
    return json.loads((CTGOV / name).read_text(encoding="utf-8"))


@pytest.fixture
def ctgov_bad(tmp_path) -> tuple[Path, dict[str, tuple[str, str]]]:
    """The fixture studies, one per kind of unreadable file beside them: name -> (reason key, what the strict
    error must say besides the name)."""
    d = tmp_path / "ctgov_bad"
    d.mkdir()
    shutil.copy(CTGOV / "NCT00763412.json", d)
    shutil.copy(CTGOV / "NCT02210780.json", d)
    # a JSONL shard: a good study, then a study with a byte in it that is not UTF-8
    line1 = (json.dumps(_study("NCT02278341.json")) + "\n").encode()
    broken = json.dumps(_study("NCT00763412.json")).encode()
    at = broken.index(b"Study")
    line2 = broken[:at] + b"\xff" + broken[at:] + b"\n"
    (d / "shard.jsonl").write_bytes(line1 + line2)
    # a study with a Latin-1 "é" in its title
    latin = json.dumps(_study("NCT02210780.json")).encode().replace(b"Dupilumab", b"Dupilumab \xe9", 1)
    (d / "latin.json").write_bytes(latin)
    lat = latin.index(b"\xe9")
    gz = gzip.compress((CTGOV / "NCT02210780.json").read_bytes())
    (d / "cut.json.gz").write_bytes(gz[:500])
    (d / "fake.jsonl.gz").write_bytes(b"not gzip at all\n")
    crc = bytearray(gz)
    crc[-8] ^= 0xFF  # the CRC-32 in the trailer: every block decompresses, the check at the end fails
    (d / "crc.json.gz").write_bytes(bytes(crc))
    expect = {
        "shard.jsonl": (
            "bad_utf8:encoding",
            f"shard.jsonl:2: encoding: invalid UTF-8 (byte 0xff at byte {len(line1) + at:,}",
        ),
        "latin.json": ("bad_utf8:encoding", f"invalid UTF-8 (byte 0xe9 at byte {lat:,} of the file), line 1"),
        "cut.json.gz": ("bad_gzip:gzip", "truncated gzip file: its 500 bytes end before the end of the gzip stream"),
        "fake.jsonl.gz": ("bad_gzip:gzip", "not a gzip file"),
        "crc.json.gz": (
            "bad_gzip:gzip",
            "corrupt gzip data (zlib: Error -3 while decompressing data: incorrect data check",
        ),
    }
    return d, expect


def test_bad_files_are_skipped_and_counted_and_the_good_ones_kept(ctgov_bad, tmp_path, capsys):
    d, expect = ctgov_bad
    tables, report = ctgov_json.read([d])
    assert set(tables["trials"].column("trial_id").to_pylist()) == GOOD_IDS
    assert report.kept == 3 and dict(report.skipped) == {"bad_utf8:encoding": 2, "bad_gzip:gzip": 3}
    good, _ = ctgov_json.read([CTGOV])
    for name, t in tables.items():
        assert t.equals(good[name]), name  # the good records exactly as read without the bad files

    rc, out, err = cli(capsys, "ingest", "ctgov-json", d, "--out", tmp_path / "t")
    assert rc == 0 and err == ""
    assert "bad_gzip:gzip" in out and "bad_utf8:encoding" in out
    assert pq.read_table(tmp_path / "t" / "trials.parquet").num_rows == 3


@pytest.mark.parametrize("bad", ["shard.jsonl", "latin.json", "cut.json.gz", "fake.jsonl.gz", "crc.json.gz"])
def test_strict_names_the_file_and_where(ctgov_bad, earlier, tmp_path, capsys, bad):
    d, expect = ctgov_bad
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(CTGOV / "NCT00763412.json", one)
    shutil.copy(d / bad, one)
    out, before = earlier
    rc, _, err = cli(capsys, "ingest", "ctgov-json", one, "--out", out, "--strict")
    line = error_line(err)
    assert rc == 2 and line.startswith(f"error: {bad}") and expect[bad][1] in line, line
    assert_intact(out, before)

    with pytest.raises(RecordError) as ei:
        ctgov_json.read([one], strict=True)
    assert f"{ei.value.reason}:{ei.value.field}" == expect[bad][0]


def test_build_input_ctgov_skips_or_names_bad_files(ctgov_bad, tmp_path, capsys):
    d, _ = ctgov_bad
    assembled = read_inputs([f"ctgov:{d}"])
    assert set(assembled.tables["trials"].column("trial_id").to_pylist()) == GOOD_IDS
    (report,) = assembled.reports.values()
    assert report.skipped["bad_gzip:gzip"] == 3
    with pytest.raises(RecordError, match="crc.json.gz: gzip: corrupt gzip data"):  # the first bad file, in name order
        read_inputs([f"ctgov:{d}"], strict=True)

    only_bad = tmp_path / "only_bad"
    only_bad.mkdir()
    shutil.copy(d / "cut.json.gz", only_bad)
    with pytest.raises(InputError, match=r"no trial read .*bad_gzip:gzip 1"):
        read_inputs([f"ctgov:{only_bad}"])
    hub = tmp_path / "hub"
    rc, _, err = cli(capsys, "build", "--input", f"ctgov:{d}", "--strict", "--no-approx", "--out", hub)
    assert rc == 2 and "crc.json.gz: gzip: corrupt gzip data" in error_line(err)
    assert not (hub / "deepimagine" / "trials").exists()


# --- AACT: a few real studies as parquet, flat files and a zip ------------------------------------------------


@pytest.fixture(scope="module")
def aact_tables() -> dict:
    """Eight embedded studies with posted p-values; every table the package ships, their rows only."""
    analyses = pl.read_parquet(AACT / "outcome_analyses.parquet")
    ids = sorted(set(analyses.filter(pl.col("p_value").is_not_null())["nct_id"].to_list()))[:8]
    out = {}
    for p in sorted(AACT.glob("*.parquet")):
        out[p.stem] = pl.read_parquet(p).filter(pl.col("nct_id").is_in(ids)).to_arrow()
    return out


def _parquet_dir(tables: dict, d: Path, drop: tuple[str, str] | None = None) -> Path:
    d.mkdir()
    for name, t in tables.items():
        if drop and drop[0] == name:
            t = t.drop_columns([drop[1]])
        pq.write_table(t, d / f"{name}.parquet")
    return d


def _flat_dir(tables: dict, d: Path, drop: tuple[str, str] | None = None) -> Path:
    if drop:
        tables = {**tables, drop[0]: tables[drop[0]].drop_columns([drop[1]])}
    write_flat_files(tables, d)
    return d


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("outcome_analyses", "p_value"),
        ("studies", "results_first_posted_date"),
        ("outcomes", "nct_id"),
        ("studies", "nct_id"),
    ],
)
@pytest.mark.parametrize("form", ["parquet", "flat"])
@pytest.mark.parametrize("strict", [False, True])
def test_missing_required_column(aact_tables, earlier, tmp_path, capsys, table, column, form, strict):
    make = _parquet_dir if form == "parquet" else _flat_dir
    src = make(aact_tables, tmp_path / "aact", drop=(table, column))
    out, before = earlier
    rc, _, err = cli(capsys, "ingest", "aact", src, "--out", out, "--quiet", *(["--strict"] if strict else []))
    file = f"{table}.{'parquet' if form == 'parquet' else 'txt'}"
    assert rc == 2 and error_line(err) == f"error: {file}: {column}: required column missing from AACT input 'aact'"
    assert_intact(out, before)
    # build checks every input's columns before reading any
    with pytest.raises(InputError, match=rf"--input aact:.*{file}: {column}: required column missing"):
        read_inputs([f"ctgov:{CTGOV}", f"aact:{src}"])


def test_optional_column_may_be_absent(aact_tables, tmp_path):
    """result_groups.outcome_id is in newer AACT only (the embedded copy lacks it): read as null, no error."""
    assert "outcome_id" not in aact_tables["result_groups"].column_names
    tables, report = aact.read(_parquet_dir(aact_tables, tmp_path / "p"), progress=False)
    assert report.kept == 8 and tables["analyses"].num_rows > 0


def _inject(path: Path, row_start: bytes, change) -> int:
    """Rewrite the row of ``path`` starting with ``row_start``; the physical line it starts on, counted here."""
    data = path.read_bytes()
    at = data.index(b"\n" + row_start) + 1
    end = data.index(b"\n", at)
    path.write_bytes(data[:at] + change(data[at:end]) + data[end:])
    return data.count(b"\n", 0, at) + 1


@pytest.fixture
def ragged_flat(aact_tables, tmp_path) -> tuple[Path, Path, dict]:
    """Flat files of the studies, a quoted line break in an early outcome_analyses row (so lines are not rows), and
    (a) a row of another study with its last field lost, (b) one with a field too many."""
    rows = pl.from_arrow(aact_tables["outcome_analyses"]).sort("id")
    first = rows["id"][0]
    rows = rows.with_columns(
        pl.when(pl.col("id") == first)
        .then(pl.lit("two\nlines"))
        .otherwise(pl.col("method_description"))
        .alias("method_description")
    )
    clean = _flat_dir({**aact_tables, "outcome_analyses": rows.to_arrow()}, tmp_path / "clean")
    ids = rows["nct_id"].unique(maintain_order=True).to_list()
    short_row = rows.filter(pl.col("nct_id") == ids[2]).row(0, named=True)
    long_row = rows.filter(pl.col("nct_id") == ids[4]).row(0, named=True)
    src = tmp_path / "ragged"
    shutil.copytree(clean, src)
    f = src / "outcome_analyses.txt"

    def start(r):
        return f"{int(r['id'])}|{r['nct_id']}|".encode()

    short_line = _inject(f, start(short_row), lambda b: b.rsplit(b"|", 1)[0])
    long_line = _inject(f, start(long_row), lambda b: b + b"|stray")
    # row k of the table is line k + 2, one more for the quoted line break before it
    assert short_line == rows["id"].to_list().index(short_row["id"]) + 3
    return (
        clean,
        src,
        {
            "short": (short_row["nct_id"], short_line, start(short_row)),
            "long": (long_row["nct_id"], long_line, start(long_row)),
        },
    )


def test_ragged_rows_strict_name_file_and_line(ragged_flat, earlier, tmp_path, capsys):
    clean, src, bad = ragged_flat
    nct, line, _ = bad["short"]
    out, before = earlier
    rc, _, err = cli(capsys, "ingest", "aact", src, "--out", out, "--quiet", "--strict")
    assert rc == 2
    assert error_line(err) == (
        f"error: outcome_analyses.txt: fields: line {line} has 21 fields where the header has 22 (study {nct}): "
        "a field lost, or a '|' outside quotes"
    )
    assert_intact(out, before)
    # the zip of the same files: the member named
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(src.iterdir()):
            zf.write(p, f"export/{p.name}")
    rc, _, err = cli(capsys, "ingest", "aact", z, "--out", out, "--quiet", "--strict")
    assert rc == 2 and error_line(err).startswith(
        f"error: export.zip:export/outcome_analyses.txt: fields: line {line} "
    )
    assert_intact(out, before)
    # the long row alone
    only_long = tmp_path / "only_long"
    shutil.copytree(clean, only_long)
    _, line, row_start = bad["long"]
    assert _inject(only_long / "outcome_analyses.txt", row_start, lambda b: b + b"|stray") == line
    with pytest.raises(RecordError, match=f"line {line} has 23 fields where the header has 22"):
        aact.read(only_long, strict=True, progress=False)


def test_ragged_rows_lenient_skip_their_studies(ragged_flat, tmp_path, capsys):
    clean, src, bad = ragged_flat
    skipped = {bad["short"][0], bad["long"][0]}
    want, want_report = aact.read(clean, progress=False, source_version="v")
    got, report = aact.read(src, progress=False, source_version="v")
    assert report.skipped["ragged_row:outcome_analyses.txt"] == 2
    assert report.examples["ragged_row:outcome_analyses.txt"] in {
        f"{bad['short'][0]}: outcome_analyses.txt: line {bad['short'][1]} has 21 fields where the header has 22",
        f"{bad['long'][0]}: outcome_analyses.txt: line {bad['long'][1]} has 23 fields where the header has 22",
    }
    assert report.kept == want_report.kept - 2
    keep = sorted(set(want["trials"].column("trial_id").to_pylist()) - skipped)
    for name in want:
        assert got[name].equals(tbl.of_trials(want, keep)[name]), name  # the others exactly as in a clean read
    # in chunks, through workers: the same
    same, report2 = aact.read(src, progress=False, source_version="v", chunk_studies=3, workers=2, tmp_dir=tmp_path)
    assert dict(report2.skipped) == dict(report.skipped)
    for name in got:
        assert same[name].equals(got[name]), name
    rc, out, _ = cli(capsys, "ingest", "aact", src, "--out", tmp_path / "t", "--quiet")
    assert rc == 0 and "ragged_row:outcome_analyses.txt" in out


def test_invalid_utf8_in_a_flat_table(aact_tables, earlier, tmp_path, capsys):
    src = _flat_dir(aact_tables, tmp_path / "flat")
    f = src / "outcomes.txt"
    data = f.read_bytes()
    assert data.split(b"|")[2] == b"outcome_type"  # a column the reader reads: Polars decodes it
    row = data.index(b"\n", len(data) // 2) + 1  # a row in the middle of the file
    at = data.index(b"|", data.index(b"|", row) + 1) + 1  # its outcome_type
    f.write_bytes(data[:at] + b"\xc3\x28" + data[at:])
    line = data.count(b"\n", 0, at) + 1
    out, before = earlier
    for strict in ([], ["--strict"]):
        rc, _, err = cli(capsys, "ingest", "aact", src, "--out", out, "--quiet", *strict)
        assert rc == 2
        assert (
            error_line(err) == f"error: outcomes.txt: line {line}: invalid UTF-8 (byte 0xc3 at byte {at:,} of the file)"
        )
        assert_intact(out, before)


def test_truncated_and_corrupt_zip(aact_tables, earlier, tmp_path, capsys):
    src = _flat_dir(aact_tables, tmp_path / "flat")
    z = tmp_path / "aact.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(src.iterdir()):
            zf.write(p, p.name)
    data = z.read_bytes()
    out, before = earlier
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    rc, _, err = cli(capsys, "ingest", "aact", cut, "--out", out, "--quiet")
    assert rc == 2 and error_line(err) == (
        f"error: {cut}: not a .zip of AACT flat files, or a truncated one (no zip directory at its end)"
    )
    assert_intact(out, before)
    # the zip's directory intact, a member's bytes damaged
    info = zipfile.ZipFile(z).getinfo("outcomes.txt")
    body = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    bad = bytearray(data)
    for i in range(body + 100, body + 140):
        bad[i] ^= 0x5A
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(bad))
    rc, _, err = cli(capsys, "ingest", "aact", damaged, "--out", out, "--quiet")
    assert rc == 2 and error_line(err).startswith(
        "error: damaged.zip:outcomes.txt: zip: corrupt or truncated zip member ("
    )
    assert_intact(out, before)


# --- item 4: no trial is an error; the swap of the six tables ----------------------------------------------------


def test_no_json_in_the_folder(earlier, tmp_path, capsys):
    empty = tmp_path / "nojson"
    empty.mkdir()
    (empty / "readme.txt").write_text("no studies here")
    out, before = earlier
    rc, _, err = cli(capsys, "ingest", "ctgov-json", empty, "--out", out, "--strict")
    assert rc == 2
    assert (
        error_line(err)
        == f"error: ctgov-json: no trial read from {empty} (no record found); nothing written, {out} left as it was"
    )
    assert_intact(out, before)


def test_every_record_skipped(ctgov_bad, earlier, tmp_path, capsys):
    d, _ = ctgov_bad
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("latin.json", "fake.jsonl.gz"):
        shutil.copy(d / name, bad)
    out, before = earlier
    rc, stdout, err = cli(capsys, "ingest", "ctgov-json", bad, "--out", out)
    assert rc == 2 and "bad_gzip:gzip" in stdout  # the report is printed, then the error
    assert error_line(err) == (
        f"error: ctgov-json: no trial read from {bad} (2 record(s), all skipped: bad_gzip:gzip 1, "
        f"bad_utf8:encoding 1); nothing written, {out} left as it was"
    )
    assert_intact(out, before)


def test_aact_with_no_study_kept(aact_tables, earlier, tmp_path, capsys):
    studies = aact_tables["studies"]
    i = studies.schema.get_field_index("results_first_posted_date")
    none = studies.set_column(i, studies.schema.field(i), pa.nulls(studies.num_rows, studies.schema.field(i).type))
    src = _parquet_dir({**aact_tables, "studies": none}, tmp_path / "p")
    out, before = earlier
    rc, _, err = cli(capsys, "ingest", "aact", src, "--out", out, "--quiet")
    assert rc == 2 and "no_results:results_first_posted_date 8" in error_line(err)
    assert_intact(out, before)


def test_a_folder_with_other_files_is_refused_before_reading(earlier, capsys):
    out, before = earlier
    (out / "notes.md").write_text("mine")
    rc, _, err = cli(capsys, "ingest", "ctgov-json", CTGOV, "--out", out)
    assert rc == 2 and "notes.md" in error_line(err) and "give an empty or new folder" in err
    assert (out / "notes.md").read_text() == "mine"
    (out / "notes.md").unlink()
    assert_intact(out, before)


def test_symlinked_out_keeps_the_link(earlier, tmp_path, capsys):
    out, _ = earlier
    link = tmp_path / "link"
    link.symlink_to(out)
    assert cli(capsys, "ingest", "ctgov-json", CTGOV / "NCT00763412.json", "--out", link)[0] == 0
    assert link.is_symlink() and pq.read_table(out / "trials.parquet").num_rows == 1


_CHILD = """
import os, signal, sys
from pathlib import Path
from deepimagine_data import tables as tbl

src, out, when = sys.argv[1:4]
tables = tbl.read_tables(src)
if when == "between_renames":
    from deepimagine_data import fsutil

    fsutil._exchange = lambda a, b: False  # a system that cannot swap two folders in one step: two renames
    replace = os.replace

    def killed_after_first(a, b):
        replace(a, b)
        if ".old-ingest-" in str(b):  # the previous folder moved away, the new one not yet in place
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = killed_after_first
else:
    write = tbl.write_parquet
    written = []

    def killed_mid_write(table, path, *level):
        written.append(path)
        if len(written) == 4:
            Path(path).write_bytes(b"PAR1 half a file")
            os.kill(os.getpid(), signal.SIGKILL)
        write(table, path, *level)

    tbl.write_parquet = killed_mid_write
tbl.write_tables(tables, out)
"""


@pytest.mark.parametrize("when", ["between_renames", "mid_write"])
def test_killed_ingest_never_leaves_a_mix(earlier, ctgov_bad, tmp_path, capsys, when):
    out, before = earlier
    new = tmp_path / "new"
    assert cli(capsys, "ingest", "ctgov-json", CTGOV / "NCT00763412.json", "--out", new)[0] == 0
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(new), str(out), when], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    if when == "between_renames":
        assert not out.exists() and [n[:12] for n in leftovers(out)] == [".old-ingest-", ".tmp-ingest-"]
    else:
        assert digest(out) == before and [n[:12] for n in leftovers(out)] == [".tmp-ingest-"]
    # the next ingest, even one that fails, puts the previous tables back and removes the rest
    d, _ = ctgov_bad
    rc, _, _ = cli(capsys, "ingest", "ctgov-json", d / "fake.jsonl.gz", "--out", out)
    assert rc == 2
    assert_intact(out, before)
    # and a good one replaces all six
    assert cli(capsys, "ingest", "ctgov-json", CTGOV / "NCT00763412.json", "--out", out)[0] == 0
    assert digest(out) == digest(new) and leftovers(out) == []


def test_a_running_ingest_keeps_its_temp_folder(earlier):
    """Only leftovers of processes that are gone are removed: a concurrent run's temp folder is not touched."""
    out, before = earlier
    mine = out.with_name(f".tmp-ingest-{out.name}-{os.getppid()}-abcd1234")  # the test runner's parent: alive
    mine.mkdir()
    other = out.with_name(f".tmp-ingest-{out.name}-x-{os.getppid()}-abcd1234")  # another folder's ("tables-x")
    other.mkdir()
    tbl.prepare_output(out)
    assert mine.is_dir() and other.is_dir()
    assert digest(out) == before
