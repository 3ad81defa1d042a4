"""OAI-PMH 2.0 verbs and errors (https://www.openarchives.org/OAI/openarchivesprotocol.html)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlparse

from lxml import etree

from api.oai import tokens
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
    repository: Repository = field(init=False)

    def __post_init__(self) -> None:
        self.repository = Repository(self.store, self.graphs)

    @property
    def host(self) -> str:
        return urlparse(self.settings.base_iri).hostname or "localhost"

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
        return _serialize(root)
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
    return _serialize(root)


def _serialize(root: etree._Element) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return data


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


def _record(ctx: Context, parent: etree._Element, header: Header, specs: list[str], prefix: str) -> None:
    record = _el(parent, "record")
    _header(ctx, record, header, specs)
    if not header.deleted:
        _el(record, "metadata").append(FORMATS[prefix].render(ctx.store, ctx.graphs, header.record_id, header.cho))


def get_record(ctx: Context, arguments: dict[str, str]) -> etree._Element:
    header = _known_header(ctx, arguments["identifier"])
    prefix = _format(arguments["metadataPrefix"])
    body = etree.Element(f"{{{OAI}}}GetRecord")
    _record(ctx, body, header, ctx.repository.set_specs([header.record_id])[header.record_id], prefix)
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


def _first_position(ctx: Context, verb: str, arguments: dict[str, str]) -> tuple[tokens.ListPosition, str]:
    prefix = _format(arguments["metadataPrefix"])
    start, start_granularity = _bound(arguments.get("from"), "from", end=False)
    end, end_granularity = _bound(arguments.get("until"), "until", end=True)
    if start_granularity and end_granularity and start_granularity != end_granularity:
        raise OaiError("badArgument", "from and until must have the same granularity")
    set_spec = arguments.get("set")
    pattern = ctx.repository.set_pattern(set_spec)
    if pattern is None:
        raise OaiError("noRecordsMatch", f"no set {set_spec!r} in this repository")
    total = ctx.repository.count(start, end, pattern)
    position = tokens.ListPosition(verb, prefix, start, end, set_spec, "", "", 0, total, tokens.expiry())
    return position, pattern


def _list(ctx: Context, verb: str, arguments: dict[str, str]) -> etree._Element:
    key = tokens.token_key(ctx.settings)
    if "resumptionToken" in arguments:
        try:
            position = tokens.decode(arguments["resumptionToken"], key, verb)
        except tokens.BadToken as exc:
            raise OaiError("badResumptionToken", str(exc)) from exc
        pattern = ctx.repository.set_pattern(position.set_spec) or ""
    else:
        position, pattern = _first_position(ctx, verb, arguments)
    after = (position.after_stamp, position.after_id) if position.after_id else None
    headers = ctx.repository.page(position.start, position.end, pattern, after, ctx.page_size + 1)
    if not headers and after is None:
        raise OaiError("noRecordsMatch", "no record matches these arguments")
    page, more = headers[: ctx.page_size], len(headers) > ctx.page_size
    specs = ctx.repository.set_specs([h.record_id for h in page])
    body = etree.Element(f"{{{OAI}}}{verb}")
    for header in page:
        if verb == "ListRecords":
            _record(ctx, body, header, specs[header.record_id], position.prefix)
        else:
            _header(ctx, body, header, specs[header.record_id])
    if more:
        last = page[-1]
        following = tokens.ListPosition(
            verb,
            position.prefix,
            position.start,
            position.end,
            position.set_spec,
            last.datestamp,
            last.record_id,
            position.cursor + len(page),
            max(position.total, position.cursor + len(headers)),
            tokens.expiry(),
        )
        expires = datetime.fromtimestamp(following.expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        _el(
            body,
            "resumptionToken",
            tokens.encode(following, key),
            expirationDate=expires,
            completeListSize=str(following.total),
            cursor=str(position.cursor),
        )
    elif after is not None:
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
