"""Route dependencies as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from kb.filters import parse_filters, split_pairs
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters
from kb.schema import MetadataSchema


def get_kb(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase = request.app.state.kb
    return kb


def get_schema(request: Request) -> MetadataSchema:
    """The metadata schema, loaded once by `create_app` (a bad schema file stops the start)."""
    schema: MetadataSchema = request.app.state.metadata_schema
    return schema


def get_filters(
    filter: Annotated[
        list[str],
        Query(
            description="`key=value`, repeatable: doc_type, date_from, date_to, KEY_min, "
            "KEY_max or any metadata key; a repeated key means any of its values."
        ),
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    doc_type: Annotated[list[str], Query(description="Document type(s).")] = [],  # noqa: B006
    date_from: Annotated[str | None, Query(description="Earliest date, YYYY[-MM[-DD]].")] = None,
    date_to: Annotated[str | None, Query(description="Latest date, YYYY[-MM[-DD]].")] = None,
) -> Filters:
    pairs: dict[str, list[str]] = split_pairs(filter)
    if doc_type:
        pairs.setdefault("doc_type", []).extend(doc_type)
    if date_from:
        pairs["date_from"] = [date_from]
    if date_to:
        pairs["date_to"] = [date_to]
    return parse_filters({k: v for k, v in pairs.items()})


KBDep = Annotated[KnowledgeBase, Depends(get_kb)]
FiltersDep = Annotated[Filters, Depends(get_filters)]


def get_actor(
    x_actor: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Who makes the change, as the audit log records it (default `api`).",
        ),
    ] = None,
) -> str:
    return f"api:{x_actor.strip()}" if x_actor and x_actor.strip() else "api"


ActorDep = Annotated[str, Depends(get_actor)]
SchemaDep = Annotated[MetadataSchema, Depends(get_schema)]
