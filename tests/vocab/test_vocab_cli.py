"""``enrich vocab …`` run as a real process against an embedded store on disk."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import enrich, ok
from tests.vocab.support import AAT_HIERARCHY_JSON, DATA, require


def test_bundled_starter_vocabulary_load_list_tree_find(tmp_path: Path) -> None:
    loaded = ok("vocab", "load", "--bundled", "aat-starter", "--store", "s", cwd=tmp_path)
    assert "merged into vocabulary 'aat-starter'" in loaded.stdout
    listing = ok("vocab", "list", "--store", "s", cwd=tmp_path).stdout
    assert listing.startswith("aat-starter\t") and "from bundled:aat-starter" in listing
    tree = ok("vocab", "tree", "materials", "--store", "s", cwd=tmp_path).stdout
    assert tree.splitlines()[0].startswith("Materials → <http://purl.org/dc/terms/medium>:")
    assert "Materials [guide]" in tree and "  canvas  <http://vocab.getty.edu/aat/300014078>" in tree
    found = ok("vocab", "find", "Canvases", "--store", "s", cwd=tmp_path).stdout
    assert "<http://vocab.getty.edu/aat/300014078>\tcanvas@en" in found
    none = enrich("vocab", "find", "canvas", "--facet", "object-types", "--store", "s", cwd=tmp_path)
    assert none.returncode == 6 and "no concept matches" in none.stdout


def test_hierarchy_json_tree_with_depth_and_language(tmp_path: Path) -> None:
    ok(
        "vocab",
        "load",
        require(AAT_HIERARCHY_JSON),
        "--hierarchy-json",
        "--name",
        "aat-2014",
        "--store",
        "s",
        cwd=tmp_path,
    )
    ok("vocab", "load", DATA / "local-scheme.ttl", "--name", "classes", "--store", "s", cwd=tmp_path)
    lines = ok("vocab", "tree", "object-types", "--depth", "1", "--store", "s", cwd=tmp_path).stdout.splitlines()
    assert lines[0].startswith("Object types → <http://purl.org/dc/elements/1.1/type>: 9053 concepts")
    assert lines[1].startswith("Objects Facet [guide]") and len(lines) == 2 + 6
    korean = ok("vocab", "find", "청화백자", "--lang", "ko", "--store", "s", cwd=tmp_path).stdout
    assert korean.strip().endswith("도자기 | 백자 | 청화백자")


def test_errors_name_the_problem(tmp_path: Path) -> None:
    unknown = enrich("vocab", "tree", "colour", "--store", "s", cwd=tmp_path)
    assert unknown.returncode == 5 and "no store at s" in unknown.stderr  # reading commands create no store
    ok("vocab", "load", DATA / "local-scheme.ttl", "--store", "s", cwd=tmp_path)
    unknown = enrich("vocab", "tree", "colour", "--store", "s", cwd=tmp_path)
    assert unknown.returncode == 3 and "unknown facet (known: disciplines, korean-lifestyle" in unknown.stderr
    assert "nothing was written" not in unknown.stderr
    no_roots = enrich("vocab", "tree", "materials", "--store", "s", cwd=tmp_path)
    assert (
        no_roots.returncode == 3 and "no root of this facet is in the loaded vocabularies (scheme)" in no_roots.stderr
    )
    broken = tmp_path / "broken.ttl"
    broken.write_text("<urn:a> <urn:b> ", encoding="utf-8")
    bad = enrich("vocab", "load", broken, "--store", "s", cwd=tmp_path)
    assert bad.returncode == 3 and "syntax error" in bad.stderr and "nothing was written" in bad.stderr
    usage = enrich("vocab", "load", "--store", "s", cwd=tmp_path)
    assert usage.returncode == 2
