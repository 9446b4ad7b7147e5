"""The three dataset cards as the Hub reads them: metadata checks available offline, and every figure from the build.

The datasets are built once for the module by the real builders (the pipeline caches its tables per process, so in
the full suite this reuses what the other tests built); no card is checked against text written here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepimagine_data.builder_kit import PAPER_URL, clip_value
from deepimagine_data.schema_docs import BY_TABLE, COMMON, describe, published_schemas

NAMES = ("trials", "pairs", "bench")
AUTHORS = ("Zheng, Youze", "Wang, Jianyou", "Sehgal, Aditya K.", "Rosin, Christopher D.", "Paturi, Ramamohan")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from deepimagine_data.builders import bench, pairs, trials

    from deepimagine_data import pipeline

    root = tmp_path_factory.mktemp("hub")
    opts = pipeline.default_options()
    trials.write(root)
    pairs.write(root, opts)
    bench.write(root, opts)
    return root / "deepimagine"


def _card(folder: Path):
    from huggingface_hub import DatasetCard

    return DatasetCard.load(folder / "README.md")


def _rows(folder: Path, config: str, split: str) -> pa.Table:
    return pa.concat_tables([pq.read_table(f) for f in sorted((folder / config).glob(f"{split}-*.parquet"))])


@pytest.mark.parametrize("name", NAMES)
def test_card_parses_and_its_metadata_is_what_the_hub_checks(built, name):
    """DatasetCard parses the card (offline); the fields the Hub validates are there, in its vocabularies, and
    agree with the rows the folder holds."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    folder = built / name
    card = _card(folder)
    data = card.data.to_dict()
    for key in ("license", "pretty_name", "language", "task_categories", "size_categories", "source_datasets", "tags"):
        assert data.get(key), f"{name}: {key}"
    # license: Hub ids; `other` only with both license_name and license_link (the Hub refuses it otherwise)
    licenses = data["license"] if isinstance(data["license"], list) else [data["license"]]
    assert set(licenses) <= {"gpl-3.0", "mit", "apache-2.0", "other", "unknown"}, licenses
    if "other" in licenses:
        assert data.get("license_name") and data.get("license_link"), name
    # what the sources of the rows state, most rows first: AACT's GPL compilation leads with the embedded data
    assert licenses[0] == "gpl-3.0"
    # datasets reads the configs and the per-split counts from the same YAML
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    assert set(infos) == set(configs)
    n = 0
    for cfg, info in infos.items():
        for split, s in info.splits.items():
            rows = pq.ParquetDataset(sorted(str(f) for f in (folder / cfg).glob(f"{split}-*.parquet"))).read()
            assert s.num_examples == rows.num_rows, (name, cfg, split)
            n += rows.num_rows
    sizes = json.loads(
        (Path(__import__("datasets").__file__).parent / "utils/resources/size_categories.json").read_text()
    )
    assert data["size_categories"][0] in sizes
    lo, hi = {"n<1K": (0, 1e3), "1K<n<10K": (1e3, 1e4), "10K<n<100K": (1e4, 1e5), "100K<n<1M": (1e5, 1e6)}[
        data["size_categories"][0]
    ]
    assert lo <= n < hi, (name, n, data["size_categories"])
    # version and fingerprint in the YAML, as train and publish read them; the text says the same
    meta = data["deepimagine"]
    assert re.fullmatch(r"[0-9a-f]{64}", meta["fingerprint"]) and meta["version"] and meta["package_version"]
    assert f"Version **{meta['version']}**" in card.text and f"`{meta['fingerprint']}`" in card.text


@pytest.mark.parametrize("name", NAMES)
def test_card_has_the_hub_templates_sections(built, name):
    text = _card(built / name).text
    for heading in (
        "## Uses",
        "### Direct use",
        "### Out-of-scope use",
        "## Dataset Structure",
        "## Personal and sensitive information",
        "## Bias, Risks, and Limitations",
        "## License",
        "## Citation",
    ):
        assert f"\n{heading}\n" in text, (name, heading)
    assert "Not for clinical decisions" in text and PAPER_URL in text
    assert "Learning Biomedical Reasoning via Successive Counterfactual Imagining" in text
    assert all(a in text for a in AUTHORS)
    # the GPL part and what it means for a user
    assert "GPL-3.0" in text and "If you **distribute** them" in text


def _example(text: str) -> tuple[str, str, dict]:
    m = re.search(r"The first row of `([^`]+)` \(`([^`]+)`\), as stored.*?```json\n(.*?)\n```", text, re.S)
    assert m, "no example row"
    return m.group(1), m.group(2), json.loads(m.group(3))


@pytest.mark.parametrize("name", NAMES)
def test_example_row_is_a_real_row_of_the_table(built, name):
    folder = built / name
    config, split, shown = _example(_card(folder).text)
    table = _rows(folder, config, split)
    row = table.slice(0, 1).to_pylist()[0]
    assert list(shown) == table.column_names  # every column, in the published order
    assert shown == clip_value(row)


def test_published_column_order_opens_with_what_people_use(built):
    for name, config, first in (
        ("pairs", "strict_arm", ["pair_id", "kind", "trial_id", "prompt", "options", "answer_index", "completion"]),
        ("pairs", "approx", ["pair_id", "kind", "trial_id", "prompt", "options", "answer_index", "completion"]),
        ("pairs", "pathways", ["pathway_id", "kind", "trial_id", "prompt", "options", "answer_index"]),
        ("bench", "questions", ["question_id", "trial_id", "category", "prompt", "options", "answer_index"]),
    ):
        names = pq.read_schema(next((built / name / config).glob("train-*.parquet"))).names
        assert names[: len(first)] == first, (name, config, names[:10])


@pytest.mark.parametrize("name", NAMES)
def test_every_column_is_described_in_the_card(built, name):
    folder = built / name
    text = _card(folder).text
    for cfg in (p.name for p in folder.iterdir() if p.is_dir()):
        schema = pq.read_schema(next((folder / cfg).glob("*.parquet")))
        table = {"pairs": "pairs", "bench": "questions"}.get(name, cfg)
        table = cfg if cfg in ("approx", "pathways") else table
        for col in schema.names:
            assert f"| `{col}` | `" in text, (name, cfg, col)
            assert describe(table, col).replace("|", "\\|") in text, (name, cfg, col)


def test_every_published_column_has_one_description_and_none_is_stale():
    schemas = published_schemas()
    missing = [
        f"{t}.{c}" for t, s in schemas.items() for c in s.names if not (BY_TABLE.get(t, {}).get(c) or COMMON.get(c))
    ]
    assert not missing, missing
    used = {c for s in schemas.values() for c in s.names}
    assert not set(COMMON) - used, sorted(set(COMMON) - used)
    for t, docs in BY_TABLE.items():
        assert not set(docs) - set(schemas[t].names), (t, sorted(set(docs) - set(schemas[t].names)))
    with pytest.raises(KeyError, match=r"pairs\.no_such_column: no description"):
        describe("pairs", "no_such_column")


def test_limitations_are_this_builds_figures(built):
    """Bias, Risks and Limitations quote counts read from the rows written."""
    pairs = _card(built / "pairs").text
    dose = {s: _rows(built / "pairs", "strict_dose", s).num_rows for s in ("validation", "test")}
    assert dose["validation"] < 200 and dose["test"] < 200  # the embedded data's dose pairs are mostly undated
    assert f"`strict_dose` validation {dose['validation']:,}, `strict_dose` test {dose['test']:,}" in pairs
    bench = _card(built / "bench").text
    test = _rows(built / "bench", "questions", "test")
    n_trials = len(set(test.column("trial_id").to_pylist()))
    assert f"**A small test set.** {test.num_rows:,} questions from {n_trials:,} trials" in bench
    trials = _card(built / "trials").text
    t = _rows(built / "trials", "trials", "train")
    aact = sum(1 for s in t.column("source").to_pylist() if s == "aact")
    assert f"{aact:,} of {t.num_rows:,} trials" in trials and "only oncology studies" in trials
    assert "`aact`" in trials.split("**Per-arm values are rare.**")[1].split("\n")[0]


def test_hub_license_ids_follow_the_sources():
    from deepimagine_data.cards.common import license_meta

    from deepimagine_data.inputs import SourceInfo

    def src(name, lic):
        return SourceInfo("x", name, lic, "v", "")

    pd = src("ctgov_api_v2", "ClinicalTrials.gov records: public domain (U.S. NLM terms of use)")
    assert license_meta([(pd, 10)]) == {
        "license": "other",
        "license_name": "public-domain",
        "license_link": "https://clinicaltrials.gov/about-site/terms-conditions",
    }
    assert license_meta([(pd, 10), (src("clinifact", "MIT"), 3)]) == {"license": "mit"}
    both = [(src("clinifact", "MIT"), 3), (src("dose_response", "GPL-3.0"), 5)]
    assert license_meta(sorted(both, key=lambda x: -x[1])) == {"license": ["gpl-3.0", "mit"]}


def test_train_reads_version_and_fingerprint_from_the_yaml(built):
    import yaml

    from deepimagine_data.train.data import parse_card

    text = (built / "pairs" / "README.md").read_text(encoding="utf-8")
    meta = _card(built / "pairs").data.to_dict()["deepimagine"]
    splits, version, fingerprint = parse_card(text, "pairs")
    assert (version, fingerprint) == (meta["version"], meta["fingerprint"]) and "strict_arm" in splits
    # the same card without the YAML key: the text still says "Version **x**" and the fingerprint, and neither is read
    _, front, body = text.split("---\n", 2)
    bare = yaml.safe_load(front)
    del bare["deepimagine"]
    _, version, fingerprint = parse_card(f"---\n{yaml.safe_dump(bare)}---\n{body}", "pairs")
    assert (version, fingerprint) == (None, None) and f"Version **{meta['version']}**" in body
