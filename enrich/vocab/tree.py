"""Label trees: a scheme (or a facet of one) as a tree of concepts with labels, paths and ancestors.

The tree follows each concept's *preferred* parent (``gvp:broaderPreferred`` when the source gives
one, else its first ``skos:broader`` inside the scheme, else a collection that lists it), so a
polyhierarchical thesaurus still gives every concept one path, as the AAT's own displays do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from enrich.vocab.labels import Candidate, LabelIndex, fold
from enrich.vocab.skos import Vocabulary

#: EUFCC-340K writes a concept's path root-first with `` | `` and several paths with `` $ ``.
PATH_SEPARATOR = " | "
PATHS_SEPARATOR = " $ "


@dataclass(slots=True)
class Node:
    iri: str
    pref_labels: dict[str, str]
    alt_labels: list[tuple[str, str]]
    selectable: bool
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    depth: int = 0
    notation: str | None = None

    def label(self, languages: Sequence[str] = ("en",)) -> str:
        """The preferred label in the first language that has one, falling back to English, to an
        untagged label, then to any label (sorted, so the choice is stable)."""
        # Language tags compare case-insensitively (parsers may lower-case them: ko-Hani → ko-hani).
        by_tag = {language.lower(): label for language, label in self.pref_labels.items()}
        for language in (*languages, "en", ""):
            if language.lower() in by_tag:
                return by_tag[language.lower()]
        for language in sorted(by_tag):
            # "ko" asked, "ko-kore" given: a regional or script variant beats a foreign language.
            if any(language.split("-")[0] == wanted.lower().split("-")[0] for wanted in languages):
                return by_tag[language]
        if self.pref_labels:
            return self.pref_labels[sorted(self.pref_labels)[0]]
        return self.iri.rsplit("/", 1)[-1]


class LabelTree:
    """Concepts with one parent each; several roots are allowed (a forest)."""

    def __init__(
        self, nodes: dict[str, Node], scheme: str | None = None, members: dict[str, list[str]] | None = None
    ) -> None:
        self.nodes = nodes
        self.scheme = scheme
        # skos:Collection → members. A concept has one tree parent, but a facet rooted at a collection
        # takes every member, wherever else the member hangs.
        self.members = {c: [m for m in ms if m in nodes] for c, ms in (members or {}).items() if c in nodes}
        for node in nodes.values():
            node.children.clear()
        for node in nodes.values():
            if node.parent is not None and node.parent not in nodes:
                node.parent = None
        self._break_cycles()
        for node in nodes.values():
            if node.parent is not None:
                nodes[node.parent].children.append(node.iri)
        for node in nodes.values():
            node.children.sort(key=lambda iri: (nodes[iri].label().casefold(), iri))
        self.roots = sorted(
            (iri for iri, node in nodes.items() if node.parent is None),
            key=lambda iri: (nodes[iri].label().casefold(), iri),
        )
        self._set_depths()

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def from_vocabulary(cls, vocabulary: Vocabulary) -> LabelTree:
        nodes: dict[str, Node] = {}
        collections_of: dict[str, str] = {}
        for iri, data in vocabulary.concepts.items():
            for member in data.members:
                collections_of.setdefault(member, iri)
        for iri, data in vocabulary.concepts.items():
            parent = data.broader_preferred
            if parent is None or parent not in vocabulary.concepts:
                parent = next((b for b in sorted(data.broader) if b in vocabulary.concepts), None)
            if parent is None:
                parent = collections_of.get(iri)
            nodes[iri] = Node(
                iri,
                dict(data.pref_labels),
                list(data.alt_labels),
                selectable=not data.structural,
                parent=parent,
                notation=data.notation,
            )
        members = {iri: list(data.members) for iri, data in vocabulary.concepts.items() if data.members}
        return cls(nodes, vocabulary.scheme_iri, members)

    def _break_cycles(self) -> None:
        """Bad data can make a concept its own ancestor; the link that closes a cycle is dropped."""
        state: dict[str, int] = {}  # 1 = on the current walk, 2 = known to reach a root
        for start in self.nodes:
            walk: list[str] = []
            current: str | None = start
            while current is not None and state.get(current, 0) == 0:
                state[current] = 1
                walk.append(current)
                current = self.nodes[current].parent
            if current is not None and state.get(current) == 1:
                self.nodes[walk[-1]].parent = None
            for iri in walk:
                state[iri] = 2

    def _set_depths(self) -> None:
        stack = [(root, 0) for root in self.roots]
        while stack:
            iri, depth = stack.pop()
            node = self.nodes[iri]
            node.depth = depth
            stack.extend((child, depth + 1) for child in node.children)

    # -- navigation --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, iri: object) -> bool:
        return iri in self.nodes

    def __getitem__(self, iri: str) -> Node:
        return self.nodes[iri]

    def ancestors(self, iri: str) -> list[str]:
        """Parent first, root last."""
        found: list[str] = []
        parent = self.nodes[iri].parent
        while parent is not None:
            found.append(parent)
            parent = self.nodes[parent].parent
        return found

    def ancestor_closure(self, iris: Iterable[str]) -> set[str]:
        """The concepts and all their ancestors (what a hierarchical classifier's targets are)."""
        closed: set[str] = set()
        for iri in iris:
            current: str | None = iri
            while current is not None and current not in closed:
                closed.add(current)
                current = self.nodes[current].parent
        return closed

    def path(self, iri: str) -> list[str]:
        """Root first, the concept last."""
        return [*reversed(self.ancestors(iri)), iri]

    def descendants(self, iri: str) -> Iterator[str]:
        """Depth first, the concept itself excluded."""
        stack = list(reversed(self.nodes[iri].children))
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(self.nodes[current].children))

    def is_within(self, iri: str, roots: Iterable[str]) -> bool:
        wanted = set(roots)
        return iri in wanted or any(a in wanted for a in self.ancestors(iri))

    def subtree(self, roots: Iterable[str]) -> LabelTree:
        """The tree below (and including) the given roots, as a tree of its own."""
        keep: dict[str, Node] = {}

        def take(top: str, parent: str | None) -> None:
            for iri in (top, *self.descendants(top)):
                if iri not in keep:
                    node = self.nodes[iri]
                    keep[iri] = Node(
                        iri,
                        node.pref_labels,
                        node.alt_labels,
                        node.selectable,
                        parent if iri == top else node.parent,
                        notation=node.notation,
                    )

        for root in roots:
            if root in self.nodes and root not in keep:
                take(root, None)
                for member in self.members.get(root, ()):
                    take(member, root)
        return LabelTree(keep, self.scheme)

    # -- labels ------------------------------------------------------------------------------------
    @cached_property
    def index(self) -> LabelIndex:
        return LabelIndex.from_tree(self)

    def find(self, label: str) -> list[Candidate]:
        """Every selectable concept the label may name, in any language, by preferred or alternative label."""
        return self.index.lookup(label)

    def path_labels(self, iri: str, languages: Sequence[str] = ("en",)) -> list[str]:
        return [self.nodes[step].label(languages) for step in self.path(iri)]

    def format_path(self, iri: str, languages: Sequence[str] = ("en",)) -> str:
        return PATH_SEPARATOR.join(self.path_labels(iri, languages))

    def resolve_path(self, labels: Sequence[str]) -> list[str]:
        """The concepts whose path ends with the given labels (root-first; a path may start below the
        root). Labels compare folded, in any language."""
        if not labels:
            return []
        wanted = [fold(label) for label in labels]
        found = []
        for iri, node in self.nodes.items():
            if not _names(node, wanted[-1]):
                continue
            steps = self.path(iri)
            if len(steps) < len(wanted):
                continue
            tail = steps[len(steps) - len(wanted) :]
            if all(_names(self.nodes[step], key) for step, key in zip(tail, wanted, strict=True)):
                found.append(iri)
        return sorted(found)

    def render(self, root: str | None = None, max_depth: int | None = None, languages: Sequence[str] = ("en",)) -> str:
        """An indented outline; guide terms and other structure in angle brackets are shown as such."""
        lines: list[str] = []
        starts = [root] if root is not None else self.roots
        for start in starts:
            base = self.nodes[start].depth
            stack = [start]
            while stack:
                iri = stack.pop()
                node = self.nodes[iri]
                level = node.depth - base
                marker = "" if node.selectable else " [guide]"
                lines.append(f"{'  ' * level}{node.label(languages)}{marker}  <{iri}>")
                if max_depth is None or level < max_depth:
                    stack.extend(reversed(node.children))
        return "\n".join(lines)


def _names(node: Node, key: str) -> bool:
    labels = [*node.pref_labels.values(), *(label for _, label in node.alt_labels)]
    return any(fold(label) == key for label in labels)


def parse_paths(text: str) -> list[list[str]]:
    """``"a | b | c $ a | d"`` → ``[["a", "b", "c"], ["a", "d"]]`` (empty parts are dropped)."""
    paths = []
    for chunk in text.split(PATHS_SEPARATOR.strip()):
        steps = [step.strip() for step in chunk.split(PATH_SEPARATOR.strip())]
        steps = [step for step in steps if step]
        if steps:
            paths.append(steps)
    return paths


def format_paths(paths: Iterable[Sequence[str]]) -> str:
    return PATHS_SEPARATOR.join(PATH_SEPARATOR.join(path) for path in paths)
