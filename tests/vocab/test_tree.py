"""Label trees: parents, ancestors, paths, subtrees, rendering, EUFCC paths."""

from __future__ import annotations

import pyoxigraph
import pytest

from enrich.vocab.skos import read_skos
from enrich.vocab.tree import LabelTree, Node, format_paths, parse_paths
from tests.vocab.support import DATA

EX = "http://collection.example.org/class/"


@pytest.fixture
def tree() -> LabelTree:
    return LabelTree.from_vocabulary(read_skos(pyoxigraph.parse(path=str(DATA / "local-scheme.ttl"))))


def test_narrower_links_build_the_tree(tree: LabelTree) -> None:
    assert tree.roots == [EX + "by-glaze", EX + "ceramics"]
    assert tree.ancestors(EX + "blue-and-white") == [EX + "porcelain", EX + "ceramics"]
    assert tree[EX + "blue-and-white"].depth == 2
    assert tree.path(EX + "porcelain") == [EX + "ceramics", EX + "porcelain"]
    # Depth first, children in label order.
    assert list(tree.descendants(EX + "ceramics")) == [EX + "celadon", EX + "porcelain", EX + "blue-and-white"]
    assert EX + "stoneware-old" not in tree  # owl:deprecated concepts are skipped


def test_a_collection_member_keeps_its_broader_parent(tree: LabelTree) -> None:
    # celadon is both narrower than ceramics and a member of <ceramics by glaze>: broader wins.
    assert tree[EX + "celadon"].parent == EX + "ceramics"
    assert not tree[EX + "by-glaze"].selectable


def test_ancestor_closure(tree: LabelTree) -> None:
    closed = tree.ancestor_closure([EX + "blue-and-white", EX + "celadon"])
    assert closed == {EX + "blue-and-white", EX + "porcelain", EX + "ceramics", EX + "celadon"}


def test_labels_fall_back_sensibly(tree: LabelTree) -> None:
    porcelain = tree[EX + "porcelain"]
    assert porcelain.label(("ko",)) == "백자"
    assert porcelain.label(("fr",)) == "porcelain"  # no French: English
    assert tree[EX + "celadon"].label(("ko-Hani",)) == "靑磁"
    assert Node("urn:x", {"de": "Vase"}, [], True).label(("fr",)) == "Vase"


def test_find_in_any_language_but_never_structure(tree: LabelTree) -> None:
    assert [c.concept for c in tree.find("Porselein")] == [EX + "porcelain"]
    assert [c.concept for c in tree.find("greenware")] == [EX + "celadon"]
    assert tree.find("<ceramics by glaze>") == []
    assert tree.find("ceramics by glaze") == []


def test_subtree_is_a_tree_of_its_own(tree: LabelTree) -> None:
    sub = tree.subtree([EX + "porcelain"])
    assert sub.roots == [EX + "porcelain"]
    assert len(sub) == 2 and sub[EX + "blue-and-white"].depth == 1
    assert tree[EX + "porcelain"].parent == EX + "ceramics"  # the original is untouched


def test_render_marks_guide_terms_and_limits_depth(tree: LabelTree) -> None:
    text = tree.render(max_depth=1, languages=("ko",))
    assert "<ceramics by glaze> [guide]" in text
    assert "  백자" in text and "청화백자" not in text


def test_eufcc_paths_parse_print_and_resolve(tree: LabelTree) -> None:
    text = "Ceramics | porcelain | blue-and-white porcelain $ Ceramics | celadon ware"
    paths = parse_paths(text)
    assert paths == [["Ceramics", "porcelain", "blue-and-white porcelain"], ["Ceramics", "celadon ware"]]
    assert format_paths(paths) == text
    assert tree.resolve_path(paths[0]) == [EX + "blue-and-white"]
    assert tree.resolve_path(["도자기", "청자"]) == [EX + "celadon"]  # any language
    assert tree.resolve_path(["porcelain", "blue-and-white porcelain"]) == [EX + "blue-and-white"]
    assert tree.resolve_path(["celadon ware", "porcelain"]) == []
    assert tree.format_path(EX + "blue-and-white") == "Ceramics | porcelain | blue-and-white porcelain"
    assert parse_paths(" | $ ") == []


def test_cycles_in_bad_data_are_broken() -> None:
    nodes = {
        "urn:a": Node("urn:a", {"en": "a"}, [], True, parent="urn:b"),
        "urn:b": Node("urn:b", {"en": "b"}, [], True, parent="urn:a"),
        "urn:c": Node("urn:c", {"en": "c"}, [], True, parent="urn:b"),
    }
    looped = LabelTree(nodes)
    # Walking from a: a → b → a closes the loop, so b's link to a goes and b becomes the root.
    assert looped.roots == ["urn:b"]
    assert looped.ancestors("urn:a") == ["urn:b"]
    assert looped.ancestor_closure(["urn:c"]) == {"urn:b", "urn:c"}
