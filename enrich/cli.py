"""The ``enrich`` command line. Imports stay inside the commands so ``enrich --help`` starts fast."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from enrich.command_support import Handler, add_store_argument

if TYPE_CHECKING:
    from enrich.ingest.sources import Document
    from enrich.mapping.crm import CrmOptions
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store import Store

# Exit codes, documented in the README.
OK, FAILURE, USAGE, BAD_INPUT, INVALID_RECORDS, STORE_FAILURE, NOT_FOUND = 0, 1, 2, 3, 4, 5, 6


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enrich", description="Linked-data enrichment service for cultural-heritage records."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="the main job on the bundled samples: ingest, load the bundled vocabularies, enrich, (serve)",
        description="Ingest the bundled sample records (EDM RDF/XML and a museum CSV export through the cmoa "
        "mapping), load the bundled vocabularies, run the lexical enricher and summarise; with --serve, then "
        "serve SPARQL, REST, OAI-PMH and the reviewer page and print the URLs and a reviewer token.",
    )
    add_store_argument(demo)
    serving = demo.add_mutually_exclusive_group()
    serving.add_argument("--serve", action="store_true", help="then serve over HTTP until interrupted")
    serving.add_argument(
        "--check",
        action="store_true",
        help="then serve, harvest the endpoints once over loopback (health, SPARQL, REST, OAI-PMH) and stop",
    )
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on with --serve (default 127.0.0.1)")
    demo.add_argument(
        "--port", type=int, default=8000, help="TCP port with --serve/--check (default 8000; 0 picks a free one)"
    )

    ingest = commands.add_parser(
        "ingest",
        help="ingest EDM records (RDF/XML, Turtle, N-Triples, N-Quads, JSON-LD; files, folders, .zip, .tar.gz, -)",
        description="Ingest EDM records. The whole run is one transaction: on any error nothing is written.",
    )
    ingest.add_argument("inputs", nargs="+", metavar="INPUT", help="file, directory, archive, or - for stdin")
    add_store_argument(ingest)
    ingest.add_argument("--format", help="input format when it cannot be told from the name (needed for stdin)")
    ingest.add_argument("--dataset", help="dataset name recorded for these records (default: edm:datasetName)")
    ingest.add_argument("--base-iri", help="base IRI for relative IRIs in the input")
    ingest.add_argument("--no-validate", action="store_true", help="skip the SHACL checks (shapes/edm.ttl)")
    ingest.add_argument(
        "--skip-invalid", action="store_true", help="import the valid records and report the invalid ones"
    )
    ingest.add_argument("--report", type=Path, help="write the ingest report (JSON) to this file")
    ingest.add_argument(
        "--source-model",
        choices=["auto", "edm", "crm"],
        default="auto",
        help="EDM, or CIDOC-CRM / Linked Art converted to EDM (the original kept beside it); "
        "auto (default) reads a document without EDM records as CRM",
    )
    ingest.add_argument("--provider", help="edm:provider for records converted from CIDOC-CRM (a name or IRI)")
    ingest.add_argument(
        "--data-provider", help="edm:dataProvider for converted records whose CRM names no keeper or owner"
    )
    ingest.add_argument("--rights", help="edm:rights IRI for converted records whose CRM states no rights")
    ingest.add_argument(
        "--mapping",
        metavar="NAME|FILE",
        help="the inputs are CSV exports converted to EDM by this mapping (a YAML file, or a bundled name "
        "such as cmoa or korean-museum); value look-ups use the store's vocabularies",
    )
    ingest.add_argument(
        "--mapping-report",
        type=Path,
        help="write the conversion report (rows needing attention) here (default: mapping-report-SOURCE.json)",
    )
    progress = ingest.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None, help="show progress")
    progress.add_argument("--quiet", dest="progress", action="store_false", help="no progress display")

    delete = commands.add_parser("delete", help="mark records deleted (kept as deleted for harvesters)")
    delete.add_argument("records", nargs="+", metavar="RECORD", help="record id or ProvidedCHO IRI")
    add_store_argument(delete)

    stats = commands.add_parser("stats", help="records, triples, providers and datasets in the store")
    add_store_argument(stats)

    listing = commands.add_parser("list", help="record ids with their ProvidedCHO IRI and datestamp")
    listing.add_argument("--limit", type=int, default=100, help="records to show (default 100)")
    listing.add_argument("--offset", type=int, default=0, help="records to skip")
    add_store_argument(listing)

    export = commands.add_parser("export", help="print one record as ingested")
    export.add_argument("record", metavar="RECORD", help="record id or ProvidedCHO IRI")
    export.add_argument(
        "--format",
        default=None,
        choices=["turtle", "ntriples", "nquads", "rdfxml", "jsonld", "trig", "crm-turtle", "linked-art"],
        help="RDF format (default turtle; trig for --view full), or CIDOC-CRM: crm-turtle, linked-art (JSON-LD)",
    )
    export.add_argument(
        "--view",
        choices=["ingested", "enriched", "full"],
        default="ingested",
        help="as ingested; plain EDM with the accepted enrichments merged in; or the full picture with "
        "suggestions and provenance (trig, nquads, jsonld)",
    )
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    add_store_argument(export)

    recover = commands.add_parser("recover", help="finish or undo ingests interrupted by a crash")
    add_store_argument(recover)
    _add_vocab_commands(commands)
    # Each module's parser part imports only argparse, so building the parser stays fast.
    for module_name in dict.fromkeys(_COMMAND_MODULES.values()):
        importlib.import_module(module_name).add_commands(commands)
    return parser


def _add_vocab_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    vocab = commands.add_parser("vocab", help="SKOS vocabularies (Getty AAT, local schemes) and facet trees")
    actions = vocab.add_subparsers(dest="vocab_command", metavar="ACTION", required=True)

    load = actions.add_parser(
        "load",
        help="load a SKOS file, a bundled vocabulary, or an AAT subtree from a SPARQL endpoint",
        description="Load SKOS into …/graph/vocab/NAME. Concepts read again replace their earlier description.",
    )
    source = load.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", type=Path, help="SKOS file (Turtle, RDF/XML, N-Triples, JSON-LD, …)")
    source.add_argument("--getty-subtree", metavar="ID", help="AAT concept id whose subtree to fetch (e.g. 300264091)")
    source.add_argument("--bundled", metavar="NAME", help="a vocabulary shipped in mappings/vocab/ (e.g. aat-starter)")
    load.add_argument("--name", help="vocabulary name (default: from the scheme IRI, e.g. 'aat')")
    load.add_argument("--format", help="input format when it cannot be told from the file name")
    load.add_argument(
        "--hierarchy-json",
        action="store_true",
        help='the file is an AAT hierarchy as nested JSON ({"name", "children"}), converted with local IRIs',
    )
    load.add_argument("--replace", action="store_true", help="replace the whole vocabulary instead of merging")
    load.add_argument("--endpoint", default=None, help="SPARQL endpoint for --getty-subtree (default: Getty's)")
    load.add_argument("--max-concepts", type=int, default=50_000, help="refuse larger subtrees (default 50000)")
    add_store_argument(load)

    listing = actions.add_parser("list", help="vocabularies in the store, with concept counts")
    add_store_argument(listing)

    tree = actions.add_parser("tree", help="print a facet's label tree")
    tree.add_argument("facet", help="facet id from mappings/facets.ttl (e.g. materials, object-types)")
    tree.add_argument("--depth", type=int, help="levels below the roots to show")
    tree.add_argument("--lang", default=None, help="label language (default: the facet's preference order)")
    add_store_argument(tree)

    find = actions.add_parser("find", help="concepts whose labels match, in any language")
    find.add_argument("label", help="a label, matched case-, accent- and plural-insensitively")
    find.add_argument("--facet", help="only concepts in this facet")
    find.add_argument("--lang", default="en", help="language of the paths shown (default en)")
    add_store_argument(find)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from enrich import __version__

        print(__version__)
        return OK
    if args.command is None:
        parser.print_help()
        return USAGE
    handler: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    from enrich.ingest.errors import InputError, ValidationFailed
    from enrich.records_admin import RecordNotFound
    from enrich.store.base import StoreError

    # Expected failures: a message and an exit code, never a traceback.
    # Only commands that write say so when they stop on bad input.
    unwritten = "\nnothing was written." if args.command in _WRITING_COMMANDS or _vocab_load(args) else ""
    expected: tuple[tuple[type[Exception], int, str], ...] = (
        (InputError, BAD_INPUT, unwritten),
        (ValidationFailed, INVALID_RECORDS, ""),
        (RecordNotFound, NOT_FOUND, ""),
        (StoreError, STORE_FAILURE, ""),
    )
    try:
        return handler(args)
    except (InputError, ValidationFailed, RecordNotFound, StoreError) as exc:
        code, suffix = next((code, suffix) for kind, code, suffix in expected if isinstance(exc, kind))
        print(f"error: {exc}{suffix}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        rolled_back = " the ingest was rolled back." if args.command in ("ingest", "demo") else ""
        print(f"interrupted;{rolled_back}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``enrich export … | head``): not an error worth a traceback.
        sys.stderr.close()
        return OK
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return FAILURE


_WRITING_COMMANDS = frozenset({"ingest", "demo", "delete", "recover", "review"})


def _vocab_load(args: argparse.Namespace) -> bool:
    return bool(args.command == "vocab" and args.vocab_command == "load")


def _context(args: argparse.Namespace, create: bool = False) -> tuple[Settings, Store, Graphs]:
    """Settings, the store (created only by commands that write records) and the graph names."""
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store import open_store

    settings = Settings()
    store = open_store(args.store, settings, create=create)
    return settings, store, Graphs(settings.base_iri)


def _ingest(args: argparse.Namespace) -> int:
    from enrich.ingest import IngestOptions, Ingestor, documents

    settings, store, graphs = _context(args, create=True)
    options = IngestOptions(
        validate=not args.no_validate,
        skip_invalid=args.skip_invalid,
        dataset=args.dataset,
        base_iri=args.base_iri,
        report_path=args.report,
        progress=args.progress,
        source_model=args.source_model,
        crm=_crm_options(args),
    )
    with store:
        if args.mapping:
            inputs = _tabular_documents(args, settings, store, graphs)
        else:
            inputs = list(documents(args.inputs, args.format, settings.max_archive_bytes))
        report = Ingestor(store, settings, options).run(inputs)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.summary())
    if report.invalid:
        print(f"{len(report.invalid)} invalid record(s) skipped; see {report.report_path}", file=sys.stderr)
    return OK


def _crm_options(args: argparse.Namespace) -> CrmOptions:
    from enrich.ingest.errors import InputError
    from enrich.mapping.crm import CrmOptions

    try:
        return CrmOptions(provider=args.provider, data_provider=args.data_provider, rights=args.rights)
    except ValueError as exc:
        raise InputError("--rights", str(exc)) from exc


def _tabular_documents(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> list[Document]:
    """Convert CSV inputs through a mapping; the conversion report goes beside the user."""
    from enrich.ingest.errors import InputError
    from enrich.mapping.tabular import convert_table, find_mapping, load_mapping, required_facets
    from enrich.vocab.facets import facet_indexes

    mapping = load_mapping(find_mapping(args.mapping))
    lookups = facet_indexes(store, graphs, required_facets(mapping))
    converted = []
    for item in args.inputs:
        path = Path(item)
        if not path.is_file():
            raise InputError(item, "no such file (a mapping reads CSV files)")
        document, table_report = convert_table(path, mapping, lookups, base_iri=settings.base_iri)
        report_path = args.mapping_report or Path(f"mapping-report-{mapping.source}.json")
        table_report.write(report_path)
        print(f"{table_report.summary()}; report: {report_path}")
        if table_report.rows_converted == 0:
            raise InputError(item, "no row could be converted; see the report")
        converted.append(document)
    return converted


def _demo(args: argparse.Namespace) -> int:
    from enrich.ingest import IngestOptions, Ingestor, documents
    from enrich.jobs import RunDefinition, run_enrichment
    from enrich.records_admin import stats
    from enrich.resources import samples_dir
    from enrich.vocab import loader
    from enrich.vocab.facets import facet_tree, load_facets

    settings, store, graphs = _context(args, create=True)
    with store:
        # The vocabulary first: the CSV mapping resolves free-text values (classification, medium) against it.
        for name in loader.bundled_names():  # the AAT starter set and the Korean museum classes
            print(
                loader.load(
                    store, graphs, loader.read_file(loader.bundled_vocabulary(name)), name, f"bundled:{name}"
                ).summary()
            )
        inputs = list(documents([str(samples_dir())])) + _sample_table_documents(settings, store, graphs)
        report = Ingestor(store, settings, IngestOptions(progress=False)).run(inputs)
        print(f"ingested the bundled samples into {store.location}")
        print(report.summary())
        trees = loader.read_trees(store, graphs)
        sizes = ", ".join(f"{facet.id} {len(facet_tree(facet, trees))}" for facet in load_facets().values())
        print(f"facet trees (concepts): {sizes}")
        # The main job: the lexical enricher over the samples, as suggestions with provenance for review.
        print(run_enrichment(store, graphs, RunDefinition.of(["lexical"])).render())
        print(stats(store, graphs).render(), flush=True)
        if args.serve or args.check:
            from api.commands import serve_demo

            return serve_demo(settings, store, args.host, args.port, check=args.check)
    return OK


#: The bundled museum CSV export and the mapping that converts it (CMOA's column layout, made-up rows).
SAMPLE_TABLE, SAMPLE_TABLE_MAPPING = "museum-export-sample.csv", "cmoa"
SAMPLE_TABLE_PROVIDER = "Example Museum of Modern Art"


def _sample_table_documents(settings: Settings, store: Store, graphs: Graphs) -> list[Document]:
    from enrich.ingest.errors import InputError
    from enrich.mapping.tabular import convert_table, find_mapping, load_mapping, required_facets
    from enrich.resources import samples_dir
    from enrich.vocab.facets import facet_indexes

    path = samples_dir() / SAMPLE_TABLE
    if not path.is_file():
        return []
    # The rows are made up: name a made-up museum, not the one whose export layout they follow.
    mapping = load_mapping(find_mapping(SAMPLE_TABLE_MAPPING)).model_copy(
        update={"provider": SAMPLE_TABLE_PROVIDER, "data_provider": SAMPLE_TABLE_PROVIDER}
    )
    lookups = facet_indexes(store, graphs, required_facets(mapping))
    document, table_report = convert_table(path, mapping, lookups, base_iri=settings.base_iri)
    print(table_report.summary())
    if table_report.rows_converted == 0:
        raise InputError(str(path), "no row of the bundled CSV could be converted")
    return [document]


def _delete(args: argparse.Namespace) -> int:
    from enrich.records_admin import delete_records

    _, store, graphs = _context(args)
    with store:
        for record_id in delete_records(store, graphs, args.records):
            print(f"deleted {record_id}")
    return OK


def _stats(args: argparse.Namespace) -> int:
    from enrich.records_admin import stats

    _, store, graphs = _context(args)
    with store:
        print(stats(store, graphs).render())
    return OK


def _list(args: argparse.Namespace) -> int:
    from enrich.records_admin import list_records

    _, store, graphs = _context(args)
    with store:
        for record_id, cho, datestamp, deleted in list_records(store, graphs, args.limit, args.offset):
            print(f"{record_id}\t{cho}\t{datestamp}" + ("\tdeleted" if deleted else ""))
    return OK


def _export(args: argparse.Namespace) -> int:
    from enrich.records_admin import export_record

    _, store, graphs = _context(args)
    with store:
        fmt = args.format or ("trig" if args.view == "full" else "turtle")
        if args.view == "ingested" or fmt in ("crm-turtle", "linked-art"):
            data = export_record(store, graphs, args.record, fmt)
        else:
            from enrich.export import export_view

            data = export_view(store, graphs, args.record, args.view, fmt)
    if args.output:
        args.output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return OK


def _recover(args: argparse.Namespace) -> int:
    from enrich.ingest.journal import recover

    _, store, graphs = _context(args)
    with store:
        done = recover(store, graphs)
    print("\n".join(done) if done else "nothing to recover")
    return OK


def _with_store(args: argparse.Namespace, handler: Handler, create: bool = False) -> int:
    """Run a sub-command module's handler with the settings, the open store and the graph names."""
    settings, store, graphs = _context(args, create=create)
    with store:
        return handler(args, settings, store, graphs)


def _vocab(args: argparse.Namespace) -> int:
    from enrich.vocab.commands import ACTIONS

    return _with_store(args, ACTIONS[args.vocab_command], create=_vocab_load(args))


#: Commands whose parser and handlers live in a module of their own (``add_commands`` and ``HANDLERS``, handlers
#: taking ``(args, settings, store, graphs)``); the handler's libraries load only when the command runs.
_COMMAND_MODULES: dict[str, str] = {
    "run": "enrich.jobs.commands",
    "runs": "enrich.jobs.commands",
    "suggestions": "enrich.review_commands",
    "review": "enrich.review_commands",
    "models": "enrich.models.commands",
    "similar": "enrich.similarity.commands",
    "train": "enrich.classify.commands",
    "evaluate": "enrich.classify.commands",
    "serve": "api.commands",
}
#: Of those, the commands that may create the store (serving an empty one is fine), and those that use none
#: (they get an empty in-memory one, so that no store has to exist).
_CREATING_COMMANDS = frozenset({"serve"})
_STORELESS_COMMANDS = frozenset({"models"})


def _delegated(args: argparse.Namespace) -> int:
    handlers: dict[str, Handler] = importlib.import_module(_COMMAND_MODULES[args.command]).HANDLERS
    if args.command in _STORELESS_COMMANDS:
        args.store = ":memory:"
    return _with_store(args, handlers[args.command], create=args.command in _CREATING_COMMANDS)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _demo,
    "ingest": _ingest,
    "delete": _delete,
    "stats": _stats,
    "list": _list,
    "export": _export,
    "recover": _recover,
    "vocab": _vocab,
    **dict.fromkeys(_COMMAND_MODULES, _delegated),
}


if __name__ == "__main__":
    sys.exit(main())
