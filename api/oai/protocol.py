"""OAI-PMH 2.0 verbs and errors (https://www.openarchives.org/OAI/openarchivesprotocol.html)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlparse

from lxml import etree

from api.oai import tokens
from api.oai.listings import Keys, Listings, Snapshot
from api.oai.metadata import FORMATS, XSI
from api.oai.repository import Header, Repository
from enrich.namespaces import Graphs
from enrich.settings import Settings
from enrich.store.base import Store

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

#: verb -> (required arguments, optional arguments); a resumptionToken is exclusive where allowed.
VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set", "resumptionToken"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set", "resumptionToken"})),
}


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Context:
    store: Store
    graphs: Graphs
    settings: Settings
    base_url: str
    listings: Listings = field(default_factory=Listings)
    repository: Repository = field(init=False)
    host: str = field(init=False)
    #: The metadata of this response's records, spliced in where ``_records`` left a marker for each.
    metadata: list[bytes] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.repository = Repository(self.store, self.graphs)
        self.host = urlparse(self.settings.base_iri).hostname or "localhost"

    @property
    def page_size(self) -> int:
        return self.settings.oai_page_size

    def identifier(self, record_id: str) -> str:
        return f"oai:{self.host}:{record_id}"

    def record_id(self, identifier: str) -> str:
        prefix = f"oai:{self.host}:"
        if not identifier.startswith(prefix) or len(identifier) == len(prefix):
            raise OaiError("idDoesNotExist", f"{identifier!r} is not an identifier of this repository")
        return identifier.removeprefix(prefix)


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _el(parent: etree._Element, name: str, value: str | None = None, **attrs: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{OAI}}}{name}", attrs)
    if value is not None:
        child.text = value
    return child


def envelope(base_url: str, arguments: dict[str, str] | None) -> etree._Element:
    """The response root with responseDate and request (attributes only when ``arguments`` is given)."""
    # lxml takes None for the default namespace; its stubs only know str keys.
    namespaces = cast("dict[str, str]", {None: OAI, "xsi": XSI})
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap=namespaces)
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} {OAI_SCHEMA}")
    _el(root, "responseDate", now_stamp())
    _el(root, "request", base_url, **(arguments or {}))
    return root


def parse_arguments(pairs: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """Validate the arguments: (verb, other arguments). Raises badVerb / badArgument."""
    verbs = [value for key, value in pairs if key == "verb"]
    if len(verbs) != 1 or verbs[0] not in VERBS:
        problem = "repeated" if len(verbs) > 1 else "missing" if not verbs else f"illegal ({verbs[0]!r})"
        raise OaiError("badVerb", f"the verb argument is {problem}")
    verb = verbs[0]
    required, optional = VERBS[verb]
    arguments: dict[str, str] = {}
    for key, value in pairs:
        if key == "verb":
            continue
        if key in arguments:
            raise OaiError("badArgument", f"the argument {key!r} is repeated")
        if key not in required | optional:
            raise OaiError("badArgument", f"{verb} does not take the argument {key!r}")
        arguments[key] = value
    for name in ("set", "metadataPrefix"):
        if name in arguments and not _SPEC.match(arguments[name]):
            raise OaiError("badArgument", f"{name}={arguments[name]!r} is not a valid {name}")
    if "resumptionToken" in arguments:
        if len(arguments) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
    elif missing := sorted(required - arguments.keys()):
        raise OaiError("badArgument", f"{verb} needs the argument(s) {', '.join(missing)}")
    return verb, arguments


def respond(ctx: Context, pairs: Sequence[tuple[str, str]]) -> bytes:
    """The complete response document for one request's (key, value) pairs."""
    try:
        verb, arguments = parse_arguments(pairs)
    except OaiError as error:
        root = envelope(ctx.base_url, None)
        _el(root, "error", error.message, code=error.code)
        return _serialize(ctx, root)
    try:
        body = HANDLERS[verb](ctx, arguments)
    except OaiError as error:
        # The spec echoes no arguments with badVerb and badArgument (they may not fit the schema).
        echoed = None if error.code in ("badVerb", "badArgument") else {"verb": verb, **arguments}
        root = envelope(ctx.base_url, echoed)
        _el(root, "error", error.message, code=error.code)
    else:
        root = envelope(ctx.base_url, {"verb": verb, **arguments})
        root.append(body)
    return _serialize(ctx, root)


_MARKER = re.compile(rb"<!--metadata (\d+)-->")


def _serialize(ctx: Context, root: etree._Element) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if not ctx.metadata:
        return data
    # The formats write their XML themselves (faster than an lxml tree per record); each record's goes where
    # its marker is. Nothing else in the document can look like a marker: text and attributes escape "<".
    return _MARKER.sub(lambda match: ctx.metadata[int(match[1])], data)


# -- verbs -----------------------------------------------------------------------------------------------
def identify(ctx: Context, _: dict[str, str]) -> etree._Element:
    body = etree.Element(f"{{{OAI}}}Identify")
    _el(body, "repositoryName", ctx.settings.oai_repository_name)
    _el(body, "baseURL", ctx.base_url)
    _el(body, "protocolVersion", "2.0")
    _el(body, "adminEmail", ctx.settings.oai_admin_email)
    _el(body, "earliestDatestamp", ctx.repository.earliest_datestamp() or "1970-01-01T00:00:00Z")
    _el(body, "deletedRecord", "persistent")
    _el(body, "granularity", GRANULARITY)
    return body


def list_metadata_formats(ctx: Context, arguments: dict[str, str]) -> etree._Element:
    if "identifier" in arguments:
        _known_header(ctx, arguments["identifier"])
    body = etree.Element(f"{{{OAI}}}ListMetadataFormats")
    for fmt in FORMATS.values():
        item = _el(body, "metadataFormat")
        _el(item, "metadataPrefix", fmt.prefix)
        _el(item, "schema", fmt.schema)
        _el(item, "metadataNamespace", fmt.namespace)
    return body


def list_sets(ctx: Context, arguments: dict[str, str]) -> etree._Element:
    if "resumptionToken" in arguments:
        raise OaiError("badResumptionToken", "ListSets is answered in one response; no token was issued")
    body = etree.Element(f"{{{OAI}}}ListSets")
    for oai_set in ctx.repository.sets():
        item = _el(body, "set")
        _el(item, "setSpec", oai_set.spec)
        _el(item, "setName", oai_set.name)
    return body


def _known_header(ctx: Context, identifier: str) -> Header:
    header = ctx.repository.header(ctx.record_id(identifier))
    if header is None:
        raise OaiError("idDoesNotExist", f"no record {identifier!r} in this repository")
    return header


def _format(prefix: str) -> str:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"the metadata format {prefix!r} is not supported")
    return prefix


def _header(ctx: Context, parent: etree._Element, header: Header, specs: list[str]) -> None:
    attrs = {"status": "deleted"} if header.deleted else {}
    element = _el(parent, "header", **attrs)
    _el(element, "identifier", ctx.identifier(header.record_id))
    _el(element, "datestamp", header.datestamp)
    for spec in specs:
        _el(element, "setSpec", spec)


def _records(ctx: Context, parent: etree._Element, headers: Sequence[Header], prefix: str) -> None:
    """The page's records: headers, and the metadata of the live ones, their graphs read in one go."""
    specs = ctx.repository.set_specs([h.record_id for h in headers])
    rendered = {
        data.header.record_id: FORMATS[prefix].render(data) for data in ctx.repository.record_data(headers, specs)
    }
    for header in headers:
        record = _el(parent, "record")
        _header(ctx, record, header, specs[header.record_id])
        if header.record_id in rendered:
            _el(record, "metadata").append(etree.Comment(f"metadata {len(ctx.metadata)}"))
            ctx.metadata.append(rendered[header.record_id])


def get_record(ctx: Context, arguments: dict[str, str]) -> etree._Element:
    header = _known_header(ctx, arguments["identifier"])
    prefix = _format(arguments["metadataPrefix"])
    body = etree.Element(f"{{{OAI}}}GetRecord")
    _records(ctx, body, [header], prefix)
    return body


def _bound(value: str | None, name: str, end: bool) -> tuple[str | None, str | None]:
    """(datestamp at seconds granularity, granularity) of a from/until argument."""
    if value is None:
        return None, None
    if _SECONDS.match(value):
        stamp, granularity = value, "seconds"
    elif _DAY.match(value):
        stamp, granularity = value + ("T23:59:59Z" if end else "T00:00:00Z"), "day"
    else:
        raise OaiError("badArgument", f"{name}={value!r} is not a YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ datestamp")
    try:
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise OaiError("badArgument", f"{name}={value!r} is not a valid date") from exc
    return stamp, granularity


def _first_position(ctx: Context, verb: str, arguments: dict[str, str]) -> tuple[tokens.ListPosition, Snapshot]:
    prefix = _format(arguments["metadataPrefix"])
    start, start_granularity = _bound(arguments.get("from"), "from", end=False)
    end, end_granularity = _bound(arguments.get("until"), "until", end=True)
    if start_granularity and end_granularity and start_granularity != end_granularity:
        raise OaiError("badArgument", "from and until must have the same granularity")
    set_spec = arguments.get("set")
    pattern = ctx.repository.set_pattern(set_spec)
    if pattern is None:
        raise OaiError("noRecordsMatch", f"no set {set_spec!r} in this repository")
    listing, snapshot = ctx.listings.start(lambda: ctx.repository.keys(start, end, pattern))
    if not snapshot.keys:
        raise OaiError("noRecordsMatch", "no record matches these arguments")
    total = len(snapshot.keys)
    position = tokens.ListPosition(verb, prefix, start, end, set_spec, "", "", 0, total, tokens.expiry(), listing)
    return position, snapshot


def _resumed(ctx: Context, verb: str, token: str) -> tuple[tokens.ListPosition, Snapshot]:
    try:
        position = tokens.decode(token, tokens.token_key(ctx.settings), verb)
    except tokens.BadToken as exc:
        raise OaiError("badResumptionToken", str(exc)) from exc
    pattern = ctx.repository.set_pattern(position.set_spec)

    def build() -> Keys:
        # A set gone since the harvest began lists nothing any more.
        return [] if pattern is None else ctx.repository.keys(position.start, position.end, pattern)

    return position, ctx.listings.resume(position.listing, build)


def _list(ctx: Context, verb: str, arguments: dict[str, str]) -> etree._Element:
    if "resumptionToken" in arguments:
        position, snapshot = _resumed(ctx, verb, arguments["resumptionToken"])
    else:
        position, snapshot = _first_position(ctx, verb, arguments)
    keys = snapshot.keys
    after = bisect_right(keys, (position.after_stamp, position.after_id)) if position.after_id else 0
    # Headers as they are now; a record no longer registered is skipped (the page then reads further, as
    # the schema wants at least one record in a list).
    end = after
    page: list[Header] = []
    while not page and end < len(keys):
        chunk = keys[end : end + ctx.page_size]
        end += len(chunk)
        current = ctx.repository.headers([rid for _, rid in chunk])
        page = [current[rid] for _, rid in chunk if rid in current]
    if not page:
        raise OaiError("noRecordsMatch", "no record is left to list")
    body = etree.Element(f"{{{OAI}}}{verb}")
    if verb == "ListRecords":
        _records(ctx, body, page, position.prefix)
    else:
        specs = ctx.repository.set_specs([h.record_id for h in page])
        for header in page:
            _header(ctx, body, header, specs[header.record_id])
    cursor = position.cursor + (end - after)
    if end < len(keys):
        stamp, rid = keys[end - 1]
        following = replace(position, after_stamp=stamp, after_id=rid, cursor=cursor, expires=tokens.expiry())
        expires = datetime.fromtimestamp(following.expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        _el(
            body,
            "resumptionToken",
            tokens.encode(following, tokens.token_key(ctx.settings)),
            expirationDate=expires,
            completeListSize=str(position.total),
            cursor=str(position.cursor),
        )
    elif position.after_id:
        # The last page of a list that had tokens: an empty token closes it.
        _el(body, "resumptionToken", completeListSize=str(position.total), cursor=str(position.cursor))
    return body


def list_identifiers(ctx: Context, arguments: dict[str, str]) -> etree._Element:
    return _list(ctx, "ListIdentifiers", arguments)


def list_records(ctx: Context, arguments: dict[str, str]) -> etree._Element:
    return _list(ctx, "ListRecords", arguments)


HANDLERS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}
