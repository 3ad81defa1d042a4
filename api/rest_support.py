"""What the REST routers (/records, /suggestions) share: the app's store, paging, 422s with field paths.

Paging is ``limit``/``offset`` with the total and a ``next`` link (absent on the last page); the largest page
is a setting, so it is checked here rather than in the ``Query`` declaration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from enrich.namespaces import Graphs
from enrich.settings import Settings
from enrich.store.base import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    settings: Settings
    store: Store
    graphs: Graphs


def context(request: Request) -> Context:
    state = request.app.state
    return Context(state.settings, state.store, state.graphs)


def invalid(location: Sequence[str | int], message: str, value: object) -> RequestValidationError:
    """A 422 shaped like FastAPI's own validation errors (``detail[].loc`` names the field)."""
    return RequestValidationError([{"type": "value_error", "loc": tuple(location), "msg": message, "input": value}])


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    #: The URL of the next page, or None on the last one.
    next: str | None


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="page size (default and maximum: settings)")] = None,
    offset: Annotated[int, Query(ge=0, description="items to skip")] = 0,
) -> Paging:
    """The ``limit``/``offset`` dependency of the list routes."""
    settings: Settings = request.app.state.settings
    if limit is None:
        return Paging(settings.api_page_size, offset)
    if limit > settings.api_max_page_size:
        raise invalid(("query", "limit"), f"must be at most {settings.api_max_page_size}", limit)
    return Paging(limit, offset)


def next_url(request: Request, **params: str | int) -> str:
    """This request's URL with some query parameters replaced (the others, filters included, kept)."""
    return str(request.url.include_query_params(**params))


def offset_page(request: Request, items: list[T], total: int, page: Paging) -> Page[T]:
    following = page.offset + len(items)
    more = bool(items) and following < total
    return Page[T](
        items=items, total=total, next=next_url(request, offset=following, limit=page.limit) if more else None
    )
