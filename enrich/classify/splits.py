"""Splitting labelled records (EUFCC-340K's protocol), and the hash of what a model was trained on.

``in-domain`` draws train / validation / test records at random; ``outer`` first holds out whole data
providers as a second test set (models must generalise to collections they never saw), then splits the
remaining records at random. Both are deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from enrich.classify.dataset import Example
from enrich.ingest.errors import InputError

SplitKind = Literal["in-domain", "outer"]
SPLIT_KINDS: tuple[SplitKind, ...] = ("in-domain", "outer")
#: Test sets a model can be evaluated on: records of the training providers, and held-out providers.
TEST_SETS = ("in-domain", "outer")


@dataclass(frozen=True)
class Split:
    """Record ids per part. ``outer`` holds the records of ``held_out_groups`` (empty for in-domain)."""

    kind: SplitKind
    seed: int
    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]
    outer: tuple[str, ...] = ()
    held_out_groups: tuple[str, ...] = ()
    parts: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = {"train": self.train, "validation": self.validation, "in-domain": self.test, "outer": self.outer}
        object.__setattr__(self, "parts", parts)

    def test_sets(self) -> list[str]:
        """The test sets this split has: ``in-domain``, and ``outer`` when providers were held out."""
        return [name for name in TEST_SETS if self.parts[name]]

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "seed": self.seed,
            "train": list(self.train),
            "validation": list(self.validation),
            "test": list(self.test),
            "outer": list(self.outer),
            "held_out_groups": list(self.held_out_groups),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Split:
        def ids(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            assert isinstance(value, list)
            return tuple(str(v) for v in value)

        kind = str(data["kind"])
        if kind not in SPLIT_KINDS:
            raise ValueError(f"unknown split kind {kind!r}")
        return cls(
            kind,
            int(str(data["seed"])),
            ids("train"),
            ids("validation"),
            ids("test"),
            ids("outer"),
            ids("held_out_groups"),
        )


def split_records(
    groups: Mapping[str, str],
    kind: SplitKind,
    seed: int,
    validation: float = 0.1,
    test: float = 0.2,
    outer: float = 0.2,
) -> Split:
    """Split record ids (→ their group) deterministically.

    ``outer``: whole groups, in a seeded random order, are held out until they hold at least ``outer`` of
    the records (at least one group, never all of them); the rest is split like ``in-domain``.
    """
    if kind not in SPLIT_KINDS:
        raise InputError("--split", f"unknown split {kind!r} (known: {', '.join(SPLIT_KINDS)})")
    for name, value in (("validation", validation), ("test", test), ("outer", outer)):
        if not 0.0 < value < 1.0:
            raise InputError(name, f"a split fraction must be between 0 and 1, not {value}")
    rng = np.random.default_rng(seed)
    ids = sorted(groups)
    held: list[str] = []
    outer_ids: list[str] = []
    if kind == "outer":
        names = sorted(set(groups.values()))
        if len(names) < 2:
            raise InputError(
                "--split outer",
                f"holding out providers needs records from at least two providers (found {len(names)}); "
                "use --split in-domain",
            )
        sizes = {name: 0 for name in names}
        for rid in ids:
            sizes[groups[rid]] += 1
        for position in rng.permutation(len(names)):
            if len(held) == len(names) - 1 or (held and len(outer_ids) >= outer * len(ids)):
                break
            name = names[int(position)]
            held.append(name)
            outer_ids += [rid for rid in ids if groups[rid] == name]
        ids = [rid for rid in ids if groups[rid] not in set(held)]
    order = [ids[int(i)] for i in rng.permutation(len(ids))]
    n_test = max(1, round(test * len(order))) if len(order) >= 3 else 0
    n_val = max(1, round(validation * len(order))) if len(order) >= 3 else 0
    return Split(
        kind,
        seed,
        train=tuple(sorted(order[n_test + n_val :])),
        validation=tuple(sorted(order[n_test : n_test + n_val])),
        test=tuple(sorted(order[:n_test])),
        outer=tuple(sorted(outer_ids)),
        held_out_groups=tuple(sorted(held)),
    )


def data_hash(examples: Mapping[str, Sequence[Example]], split: Split) -> str:
    """What the heads were trained on: every example's labels and the split, hashed (24 hex digits)."""
    digest = hashlib.sha256()
    for facet_id in sorted(examples):
        for example in examples[facet_id]:
            line = [facet_id, example.record_id, sorted(example.positives), sorted(example.negatives)]
            digest.update(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
    digest.update(json.dumps(split.as_json(), sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:24]
