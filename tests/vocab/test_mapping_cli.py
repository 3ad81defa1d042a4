"""``enrich ingest --mapping``: CSV exports through a bundled mapping, look-ups in the store's vocabularies."""

from __future__ import annotations

import json
from pathlib import Path

from enrich.resources import data_dir
from tests.cli.support import enrich, ok

KOREAN_SAMPLE = data_dir("mappings") / "sources" / "examples" / "korean-museum-sample.csv"


def test_korean_export_ingests_with_its_local_classes(tmp_path: Path) -> None:
    refused = enrich("ingest", "--mapping", "korean-museum", KOREAN_SAMPLE, "--store", "s", cwd=tmp_path)
    assert refused.returncode == 3 and "korean-lifestyle: no concept of this facet" in refused.stderr
    assert "nothing was written" in refused.stderr
    ok("vocab", "load", "--bundled", "korean-museum-classes", "--store", "s", cwd=tmp_path)
    result = ok("ingest", "--mapping", "korean-museum", KOREAN_SAMPLE, "--store", "s", cwd=tmp_path)
    assert "34 row(s), 34 converted, 0 skipped" in result.stdout
    assert "34 record(s): 34 new" in result.stdout and "0 invalid" in result.stdout
    report = json.loads((tmp_path / "mapping-report-korean-museum.json").read_text(encoding="utf-8"))
    assert report["rows_converted"] == 34
    exported = ok("stats", "--store", "s", cwd=tmp_path).stdout
    assert "Sample Korean Museum (invented records)" in exported
    again = ok("ingest", "--mapping", "korean-museum", KOREAN_SAMPLE, "--store", "s", cwd=tmp_path)
    assert "34 unchanged" in again.stdout


def test_mapping_errors(tmp_path: Path) -> None:
    missing = enrich("ingest", "--mapping", "no-such-mapping", KOREAN_SAMPLE, "--store", "s", cwd=tmp_path)
    assert missing.returncode == 3 and "no-such-mapping" in missing.stderr
    ok("vocab", "load", "--bundled", "korean-museum-classes", "--store", "s", cwd=tmp_path)
    absent = enrich("ingest", "--mapping", "korean-museum", tmp_path / "absent.csv", "--store", "s", cwd=tmp_path)
    assert absent.returncode == 3 and "no such file" in absent.stderr
