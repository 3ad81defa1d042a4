"""The ``enrich suggestions …`` and ``enrich review …`` commands (the review logic is :mod:`enrich.review`).

``add_commands`` adds the parsers; ``HANDLERS`` maps a top-level command to its handler, called with
``(args, settings, store, graphs)`` like :mod:`enrich.vocab.commands`. Only argparse is imported here, so
``enrich --help`` stays fast.

Exit codes: 0 done; 3 bad input or an illegal transition (nothing written for that id); 6 no such
suggestion; 7 a conflict (another reviewer changed the suggestion first). With several ids, each is its
own atomic action: the others still run, and the exit code is the first failure's.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from enrich.command_support import Handler, add_store_argument

if TYPE_CHECKING:
    from enrich.namespaces import Graphs
    from enrich.review import Review
    from enrich.settings import Settings
    from enrich.store.base import Store

OK, BAD_INPUT, NOT_FOUND, CONFLICT = 0, 3, 6, 7
REASONS = ("wrong-concept", "too-broad", "too-specific", "not-visible", "duplicate", "other")
STATUSES = ("pending", "auto-accepted", "approved", "rejected", "superseded", "retracted")


def _add_reviewer(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reviewer", help="who decides: a name or an IRI (default: the login name)")
    parser.add_argument("--comment", help="a free-text comment kept with the review")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    suggestions = commands.add_parser("suggestions", help="list suggestions for review, with counts")
    suggestion_actions = suggestions.add_subparsers(dest="suggestions_command", metavar="ACTION", required=True)
    listing = suggestion_actions.add_parser(
        "list", help="suggestions passing the filters, most confident first (a stable order for paging)"
    )
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--facet", help="facet id (e.g. materials)")
    listing.add_argument("--provider", help="the record's edm:provider (name or IRI)")
    listing.add_argument("--dataset", help="the record's dataset")
    listing.add_argument("--min-confidence", type=float)
    listing.add_argument("--max-confidence", type=float)
    listing.add_argument("--enricher", help="an enricher that proposed it (e.g. lexical)")
    listing.add_argument("--record", help="record id")
    listing.add_argument("--limit", type=int, default=100, help="suggestions to show (default 100)")
    listing.add_argument("--offset", type=int, default=0, help="suggestions to skip")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    add_store_argument(listing)

    review = commands.add_parser("review", help="approve, reject, correct, retract or reopen suggestions")
    actions = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)

    approve = actions.add_parser("approve", help="Pending → Approved: into the record's enrichment graph")
    approve.add_argument("ids", nargs="+", metavar="ID", help="suggestion id (or IRI)")
    _add_reviewer(approve)
    add_store_argument(approve)

    reject = actions.add_parser("reject", help="Pending → Rejected (never suggested again unless reopened)")
    reject.add_argument("ids", nargs="+", metavar="ID")
    reject.add_argument("--reason", required=True, choices=REASONS)
    _add_reviewer(reject)
    add_store_argument(reject)

    correct = actions.add_parser("correct", help="approve another concept of the same facet instead")
    correct.add_argument("id", metavar="ID")
    correct.add_argument("--concept", required=True, metavar="IRI", help="the right concept (e.g. broader)")
    correct.add_argument("--reason", choices=REASONS, help="why the suggested concept was not right")
    _add_reviewer(correct)
    add_store_argument(correct)

    retract = actions.add_parser("retract", help="Approved/AutoAccepted → Retracted: out of the enrichment graph")
    retract.add_argument("ids", nargs="+", metavar="ID")
    retract.add_argument("--reason", choices=REASONS)
    _add_reviewer(retract)
    add_store_argument(retract)

    reopen = actions.add_parser("reopen", help="Rejected/Retracted → Pending (undo a decision)")
    reopen.add_argument("ids", nargs="+", metavar="ID")
    _add_reviewer(reopen)
    add_store_argument(reopen)

    approve_all = actions.add_parser(
        "approve-all", help="approve every Pending suggestion at or above a confidence, in one transaction"
    )
    approve_all.add_argument("--min-confidence", type=float, required=True)
    approve_all.add_argument("--facet")
    approve_all.add_argument("--provider")
    approve_all.add_argument("--dataset")
    _add_reviewer(approve_all)
    add_store_argument(approve_all)

    auto = actions.add_parser(
        "auto", help="auto-accept a facet's Pending suggestions by policy (the stored one, or --threshold)"
    )
    auto.add_argument("--facet", required=True)
    auto.add_argument("--threshold", type=float, help="confidence threshold (default: the facet's stored policy)")
    auto.add_argument("--min-enrichers", type=int, default=None, help="enrichers that must agree (default 1)")
    auto.add_argument("--dry-run", action="store_true", help="only show what would be accepted")
    add_store_argument(auto)

    stats = actions.add_parser(
        "stats", help="per facet and enricher: counts by status, approval rate; calibration of the decisions"
    )
    stats.add_argument("--facet")
    stats.add_argument("--enricher")
    stats.add_argument("--provider")
    stats.add_argument("--dataset")
    stats.add_argument("--format", choices=["table", "json"], default="table")
    add_store_argument(stats)

    policy = actions.add_parser("policy", help="auto-accept policies per facet")
    policy_actions = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    policy_set = policy_actions.add_parser("set", help="set a facet's auto-accept policy")
    policy_set.add_argument("--facet", required=True)
    policy_set.add_argument("--threshold", type=float, required=True)
    policy_set.add_argument("--min-enrichers", type=int, default=1)
    add_store_argument(policy_set)
    policy_list = policy_actions.add_parser("list", help="the facets' current auto-accept policies")
    add_store_argument(policy_list)


# --- handlers -------------------------------------------------------------------------------------------


def _status(name: str | None) -> str | None:
    return None if name is None else "".join(part.capitalize() for part in name.split("-"))


def suggestions(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich.review import list_suggestions, suggestion_counts

    rows = list_suggestions(
        store,
        graphs,
        status=_status(args.status),
        facet=args.facet,
        provider=args.provider,
        dataset=args.dataset,
        min_confidence=args.min_confidence,
        max_confidence=args.max_confidence,
        enricher=args.enricher,
        record=args.record,
        limit=args.limit,
        offset=args.offset,
    )
    counts = suggestion_counts(
        store, graphs, facet=args.facet, provider=args.provider, dataset=args.dataset, enricher=args.enricher,
        record=args.record,
    )  # fmt: skip
    if args.format == "json":
        document = {
            "total": counts.total,
            "by_status": counts.by_status,
            "by_facet": counts.by_facet,
            "offset": args.offset,
            "suggestions": [row.as_dict() for row in rows],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return OK
    for row in rows:
        confidence = "-" if row.confidence is None else f"{row.confidence:.3f}"
        value = row.value if row.value_is_iri else f"{row.value}@{row.language}"
        print(f"{row.id}\t{row.status}\t{confidence}\t{row.facet}\t{row.record_id}\t{value}\t{','.join(row.enrichers)}")
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.by_status.items())) or "none"
    print(f"{len(rows)} shown (offset {args.offset}); {counts.total} suggestion(s): {by_status}", file=sys.stderr)
    return OK


def _reviewer(args: argparse.Namespace) -> str:
    if getattr(args, "reviewer", None):
        return str(args.reviewer)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _each(ids: list[str], action: Callable[[str], Review]) -> int:
    from enrich.review import ReviewConflict, ReviewError, SuggestionNotFound

    code = OK
    for reference in ids:
        try:
            done = action(reference)
        except ReviewError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failure = (
                NOT_FOUND
                if isinstance(exc, SuggestionNotFound)
                else CONFLICT
                if isinstance(exc, ReviewConflict)
                else BAD_INPUT
            )
            code = code or failure
            continue
        created = f" → {done.created} (approved)" if done.created else ""
        print(f"{reference}: {done.decision.value.lower()}{created}\t{done.event}")
    return code


def review(args: argparse.Namespace, settings: Settings, store: Store, graphs: Graphs) -> int:
    from enrich import review as rv

    command: str = args.review_command
    reviewer = _reviewer(args)
    comment = getattr(args, "comment", None)
    reason = getattr(args, "reason", None)
    if command == "approve":
        return _each(args.ids, lambda i: rv.approve(store, graphs, i, reviewer, comment))
    if command == "reject":
        return _each(args.ids, lambda i: rv.reject(store, graphs, i, reviewer, args.reason, comment))
    if command == "correct":
        return _each([args.id], lambda i: rv.correct(store, graphs, i, args.concept, reviewer, reason, comment))
    if command == "retract":
        return _each(args.ids, lambda i: rv.retract(store, graphs, i, reviewer, reason, comment))
    if command == "reopen":
        return _each(args.ids, lambda i: rv.reopen(store, graphs, i, reviewer, comment))
    if command == "approve-all":
        done = rv.approve_all(
            store, graphs, reviewer, args.min_confidence, args.facet, args.provider, args.dataset, comment
        )
        print(f"approved {done.count} suggestion(s) in one transaction\t{done.event}")
        return OK
    if command == "auto":
        return _auto(args, store, graphs)
    if command == "policy":
        return _policy(args, store, graphs)
    if command == "stats":
        return _stats(args, store, graphs)
    raise AssertionError(command)  # argparse only lets the commands above through


def _auto(args: argparse.Namespace, store: Store, graphs: Graphs) -> int:
    from enrich import review as rv

    if args.threshold is None:
        policy = rv.policy_for(store, graphs, args.facet)
        if args.min_enrichers is not None:
            policy = rv.Policy(policy.facet, policy.threshold, args.min_enrichers)
    else:
        policy = rv.Policy(args.facet, args.threshold, args.min_enrichers or 1)
    rule = f"{policy.facet}: confidence ≥ {policy.threshold}, ≥ {policy.min_enrichers} enricher(s)"
    if args.dry_run:
        candidates = rv.auto_accept_candidates(store, graphs, policy)
        for row in candidates:
            print(f"{row.id}\t{row.confidence}\t{row.record_id}\t{row.value}\t{','.join(row.enrichers)}")
        print(f"would auto-accept {len(candidates)} suggestion(s) ({rule}); nothing written")
        return OK
    done = rv.auto_accept(store, graphs, policy)
    print(f"auto-accepted {done.count} suggestion(s) ({rule}) by <{policy.iri(graphs)}>")
    return OK


def _policy(args: argparse.Namespace, store: Store, graphs: Graphs) -> int:
    from enrich import review as rv

    if args.policy_command == "set":
        iri = rv.set_policy(store, graphs, rv.Policy(args.facet, args.threshold, args.min_enrichers))
        print(f"{args.facet}: auto-accept at confidence ≥ {args.threshold}, ≥ {args.min_enrichers} enricher(s) <{iri}>")
        return OK
    policies = rv.list_policies(store, graphs)
    if not policies:
        print("no auto-accept policies (set one: enrich review policy set --facet F --threshold T)")
    for facet, policy in policies.items():
        print(f"{facet}\t≥ {policy.threshold}\t≥ {policy.min_enrichers} enricher(s)\t<{policy.iri(graphs)}>")
    return OK


def _stats(args: argparse.Namespace, store: Store, graphs: Graphs) -> int:
    from dataclasses import asdict

    from enrich.review_stats import Filters, review_stats
    from enrich.review_summary import SummaryCache

    chosen = Filters(args.facet, args.enricher, args.provider, args.dataset)
    stats = review_stats(SummaryCache(store, graphs).snapshot(), chosen)
    if args.format == "json":
        print(json.dumps(asdict(stats), ensure_ascii=False, indent=2))
        return OK
    print("facet\tenricher\t" + "\t".join(STATUSES) + "\tdecided\tapproval rate")
    for group in stats.groups:
        rate = "-" if group.approval_rate is None else f"{group.approval_rate:.3f}"
        counts = "\t".join(str(n) for n in group.counts.values())
        print(f"{group.facet}\t{group.enricher}\t{counts}\t{group.decided}\t{rate}")
    calibration = stats.calibration
    ece = "-" if calibration.expected_calibration_error is None else f"{calibration.expected_calibration_error:.4f}"
    print(f"calibration over {calibration.decisions} review decision(s), expected calibration error {ece}:")
    for b in calibration.bins:
        if b.count:
            print(
                f"  [{b.lower:.1f}, {b.upper:.1f})\t{b.count}\tmean confidence {b.mean_confidence:.3f}"
                f"\tapproved {b.approval_rate:.3f}"
            )
    return OK


HANDLERS: dict[str, Handler] = {"suggestions": suggestions, "review": review}
