"""What every ``enrich`` sub-command module shares: the ``--store`` option and the handler signature.

Only argparse and typing are imported, so command modules that use this keep ``enrich --help`` fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from enrich.namespaces import Graphs
    from enrich.settings import Settings
    from enrich.store.base import Store

#: A command's handler: parsed arguments, settings, the open store and graph names in; an exit code out.
Handler = Callable[[argparse.Namespace, "Settings", "Store", "Graphs"], int]


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        help="embedded store directory, ':memory:', or the base URL of a SPARQL 1.1 server "
        "(default: ENRICH_STORE or ./data/store)",
    )
