"""Facet counts: for the documents a filter passes, how many have each type, region, period
(decade), stage and classification. Counted in SQL over what the viewer may see, exactly like
a search, so hidden documents never move a count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from kb.access import LEVELS, Viewer
from kb.metadata.filter_keys import FilterKeys
from kb.models import Filters
from kb.store.protocol import Store

FACETS = ("doc_type", "region", "period", "stage", "classification")


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class Facets:
    """`total` documents pass the filters; `counts` per facet, most frequent value first."""

    total: int
    counts: Mapping[str, tuple[FacetCount, ...]]


class Faceting:
    """Counts facets in the store through the filters' checked keys."""

    def __init__(self, store: Store, filter_keys: FilterKeys) -> None:
        self.store = store
        self.filter_keys = filter_keys

    def facets(self, filters: Filters, viewer: Viewer | None = None) -> Facets:
        """Counts per value of each facet over the documents that meet the filters and that
        the viewer may see (None: full rights)."""
        seen = self.filter_keys.check(replace(filters, viewer=viewer) if viewer else filters)
        found: dict[str, list[FacetCount]] = {name: [] for name in FACETS}
        for facet, value, count in self.store.facet_counts(seen):
            shown = LEVELS[int(value)] if facet == "classification" else value
            found[facet].append(FacetCount(shown, count))
        return Facets(
            total=self.store.count_documents(seen),
            counts={
                name: tuple(sorted(values, key=lambda c: (-c.count, c.value.casefold())))
                for name, values in found.items()
            },
        )
