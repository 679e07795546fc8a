"""Typed links between documents: an evaluation evaluates an agreement, a lessons-learned
report draws on evaluations. Each type has an inverse label for the other end."""

from __future__ import annotations

from kb.errors import InvalidRequestError

# relation -> how it reads from the target's side
INVERSES: dict[str, str] = {
    "evaluates": "evaluated-by",
    "draws-on": "drawn-on-by",
    "implements": "implemented-by",
    "supersedes": "superseded-by",
    "responds-to": "responded-to-by",
    "related-to": "related-to",
}
RELATION_TYPES = tuple(INVERSES)
# Filter keys: a type keeps documents with that link to the given ids, an inverse label
# documents linked that way from them, `related_to` either way and of any type.
ANY_RELATION = "related_to"
FILTER_LABELS = (
    *RELATION_TYPES,
    *(v for v in INVERSES.values() if v not in INVERSES),
    ANY_RELATION,
)


def check_relation(relation: str) -> str:
    if relation not in INVERSES:
        raise InvalidRequestError(
            f"unknown relation {relation!r}; use one of {', '.join(RELATION_TYPES)}"
        )
    return relation


def outgoing_type(label: str) -> str | None:
    """The relation type a filter label names from the source's side, if it does."""
    return label if label in INVERSES else None


def incoming_type(label: str) -> str | None:
    """The relation type whose inverse a filter label names, if it does."""
    for relation, inverse in INVERSES.items():
        if inverse == label:
            return relation
    return None
