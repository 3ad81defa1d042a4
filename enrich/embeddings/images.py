"""A record's images: where they are (its ``ore:Aggregation``), fetching them with limits, decoding them safely.

Sources are the aggregation's ``edm:isShownBy``, then ``edm:object``, then ``edm:hasView`` links, read from
the record graphs of a batch with one SPARQL query. A source is a local path, a ``file:`` URL or an
``http(s):`` URL; anything else is refused. Every failure (missing file, HTTP error, too large, too slow,
not an image, too many pixels) is an :class:`ImageError` with the source and the problem: the caller reports
it and skips the image, a run never stops on one.
"""

from __future__ import annotations

import io
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import httpx

from enrich.namespaces import EDM, Graphs
from enrich.store.base import Store, text

if TYPE_CHECKING:
    from PIL.Image import Image

    from enrich.enrichers.base import RecordView
    from enrich.settings import Settings

#: Image links of an aggregation, in the order they are used (the first is the record's main image).
IMAGE_PREDICATES = (EDM + "isShownBy", EDM + "object", EDM + "hasView")


class ImageError(Exception):
    """One image that could not be used, and why."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Bounds on one image. Defaults suit museum photographs; a card's ``extra`` may override them
    (``max_image_bytes``, ``fetch_timeout_s``, ``connect_timeout_s``, ``max_image_pixels``)."""

    max_bytes: int = 25_000_000
    timeout_s: float = 20.0  # whole response, however the bytes trickle in
    connect_timeout_s: float = 5.0
    max_pixels: int = 50_000_000
    max_redirects: int = 3
    #: Hosts images may come from (``example.org`` also admits its subdomains); empty admits any host. Links
    #: come from ingested data, so a deployment that serves the public sets this to its providers' hosts.
    allowed_hosts: tuple[str, ...] = ()
    #: Whether local paths and ``file:`` links are read (a batch job: yes; a shared service: perhaps not).
    local_files: bool = True

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any], settings: Settings | None = None) -> FetchLimits:
        """A card's limits; the deployment's host and file policy (``settings``) applies to every card."""
        defaults = cls()
        return cls(
            max_bytes=int(extra.get("max_image_bytes", defaults.max_bytes)),
            timeout_s=float(extra.get("fetch_timeout_s", defaults.timeout_s)),
            connect_timeout_s=float(extra.get("connect_timeout_s", defaults.connect_timeout_s)),
            max_pixels=int(extra.get("max_image_pixels", defaults.max_pixels)),
            max_redirects=int(extra.get("max_redirects", defaults.max_redirects)),
            allowed_hosts=tuple(settings.image_hosts) if settings is not None else (),
            local_files=settings.image_local_files if settings is not None else True,
        )

    def host_allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        return not self.allowed_hosts or any(
            host == allowed or host.endswith(f".{allowed}")
            for allowed in (entry.lower().strip(".") for entry in self.allowed_hosts)
        )


def image_sources(
    store: Store, graphs: Graphs, records: Sequence[RecordView], per_record: int | None = 1
) -> dict[str, list[str]]:
    """Image links of each record (isShownBy, object, hasView; each kind sorted), at most ``per_record``
    each (``None``: all). Records without any are left out."""
    if not records:
        return {}
    rows = " ".join(f"(<{graphs.record(view.record_id)}> <{view.cho}>)" for view in records)
    wanted = " ".join(f"<{p}>" for p in IMAGE_PREDICATES)
    query = (
        f"SELECT ?cho ?p ?o WHERE {{ VALUES (?g ?cho) {{ {rows} }} "
        f"GRAPH ?g {{ ?agg <{EDM}aggregatedCHO> ?cho ; ?p ?o . VALUES ?p {{ {wanted} }} FILTER(isIRI(?o)) }} }}"
    )
    found: dict[str, set[tuple[int, str]]] = {}
    for row in store.select(query):
        found.setdefault(text(row["cho"]), set()).add((IMAGE_PREDICATES.index(text(row["p"])), text(row["o"])))
    out: dict[str, list[str]] = {}
    for view in records:
        links = [link for _, link in sorted(found.get(view.cho, ()))]
        unique = list(dict.fromkeys(links))
        if unique:
            out[view.record_id] = unique[:per_record] if per_record is not None else unique
    return out


def local_path(source: str) -> Path | None:
    """The file a ``file:`` URL or a plain path names; ``None`` for other URLs."""
    parts = urlsplit(source)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parts.path))
    if parts.scheme == "":
        return Path(source)
    return None


def stamp_of(source: str) -> str:
    """What says a source still holds what it held: a file's size and mtime; a URL is taken to keep its
    content (``"url"``). An unreadable file gets a stamp that matches nothing."""
    path = local_path(source)
    if path is None:
        return "url"
    try:
        info = path.stat()
    except OSError:
        return f"missing:{time.time_ns()}"
    return f"{info.st_size}:{info.st_mtime_ns}"


class ImageFetcher:
    """Reads image bytes from files and HTTP(S) under :class:`FetchLimits`. Thread-safe (one shared
    ``httpx.Client``); close it when done."""

    def __init__(self, limits: FetchLimits | None = None, client: httpx.Client | None = None) -> None:
        self.limits = limits or FetchLimits()
        timeout = httpx.Timeout(self.limits.timeout_s, connect=self.limits.connect_timeout_s)
        self.client = client or httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            max_redirects=self.limits.max_redirects,
            headers={"User-Agent": "heritage-enrich/embed", "Accept": "image/*"},
            # Every request, redirects included: an admitted host must not hand the fetch on to another.
            event_hooks={"request": [self._check_host]},
        )

    def _check_host(self, request: httpx.Request) -> None:
        if not self.limits.host_allowed(str(request.url)):
            raise ImageError(str(request.url), "redirected to a host that is not among ENRICH_IMAGE_HOSTS")

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ImageFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, source: str) -> bytes:
        path = local_path(source)
        if path is not None:
            if not self.limits.local_files:
                raise ImageError(source, "local files are not read here (ENRICH_IMAGE_LOCAL_FILES=false)")
            return self._read_file(source, path)
        scheme = urlsplit(source).scheme.lower()
        if scheme not in ("http", "https"):
            raise ImageError(source, f"unsupported link scheme {scheme!r} (local paths, file:, http: and https:)")
        if not self.limits.host_allowed(source):
            raise ImageError(
                source, f"the host is not among ENRICH_IMAGE_HOSTS ({', '.join(self.limits.allowed_hosts)})"
            )
        return self._read_http(source)

    def _read_file(self, source: str, path: Path) -> bytes:
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise ImageError(source, "not a regular file")
            if info.st_size > self.limits.max_bytes:
                raise ImageError(source, f"{info.st_size:,} bytes, more than the limit of {self.limits.max_bytes:,}")
            with path.open("rb") as handle:
                data = handle.read(self.limits.max_bytes + 1)
        except OSError as exc:
            raise ImageError(source, f"cannot read the file: {exc.strerror or exc}") from None
        if len(data) > self.limits.max_bytes:  # it grew after the stat
            raise ImageError(source, f"more than the limit of {self.limits.max_bytes:,} bytes")
        return data

    def _read_http(self, source: str) -> bytes:
        limit = self.limits.max_bytes
        deadline = time.monotonic() + self.limits.timeout_s
        try:
            with self.client.stream("GET", source) as response:
                if response.status_code != 200:
                    raise ImageError(source, f"HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise ImageError(source, f"{int(declared):,} bytes declared, more than the limit of {limit:,}")
                buffer = bytearray()
                for chunk in response.iter_bytes():
                    buffer += chunk
                    if len(buffer) > limit:
                        raise ImageError(source, f"more than the limit of {limit:,} bytes")
                    if time.monotonic() > deadline:
                        raise ImageError(source, f"slower than the limit of {self.limits.timeout_s:g} s")
                return bytes(buffer)
        except httpx.TimeoutException:
            raise ImageError(source, f"no answer within the limit of {self.limits.timeout_s:g} s") from None
        except httpx.TooManyRedirects:
            raise ImageError(source, f"more than {self.limits.max_redirects} redirects") from None
        except httpx.HTTPError as exc:
            raise ImageError(source, f"cannot fetch: {exc}") from None


def decode_image(source: str, data: bytes, max_pixels: int, min_side: int | None = None) -> Image:
    """Image bytes → an RGB image, checked before the pixels are decoded.

    The size is checked from the header (a small file may declare billions of pixels), the file's structure
    verified, EXIF orientation applied, transparency flattened onto white. ``min_side`` lets JPEG decode at
    a reduced scale that still leaves at least that many pixels on each side (what the model resizes to).
    """
    from PIL import Image as PILImage
    from PIL import ImageOps

    limit = min(max_pixels, PILImage.MAX_IMAGE_PIXELS or max_pixels)
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > limit:
                raise ImageError(source, f"{width}x{height} pixels, more than the limit of {limit:,}")
            probe.verify()
        opened = PILImage.open(io.BytesIO(data))
        if min_side:
            opened.draft("RGB", (min_side, min_side))
        opened.load()
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            flat = PILImage.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB")
    except ImageError:
        raise
    except Exception as exc:  # PIL raises many kinds (OSError, SyntaxError, DecompressionBombError, …)
        raise ImageError(source, f"not a usable image: {exc}") from None
