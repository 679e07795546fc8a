"""Which keys a filter may name: the built-in ones, the metadata schema's fields, `year`, and
the metadata keys of documents the viewer may see. Any other key is refused, naming what is
allowed, rather than quietly finding nothing; a key only hidden documents hold is refused
exactly as one no document holds, so a refusal tells nothing of what is hidden."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from kb.access import Viewer, sight_of
from kb.errors import InvalidRequestError
from kb.metadata.schema import MetadataSchema, load_schema
from kb.models import Filters
from kb.relations import FILTER_LABELS
from kb.settings import Settings
from kb.store.generation_cache import GenerationCache
from kb.store.protocol import Store

BUILT_IN = ("doc_type", "date_from", "date_to", "classification", *FILTER_LABELS)
# Ingest derives both from a document's date, so they are filters even where no schema names them.
DERIVED = ("date", "year")
SIGHTS_KEPT = 64  # kinds of viewer (clearance, groups) whose keys are kept


class FilterKeys:
    """Checks the metadata keys a filter names against those its viewer may use; the keys of
    visible documents are read once per store generation and kind of viewer."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._schema: MetadataSchema | None = None
        self._visible: GenerationCache[frozenset[str]] = GenerationCache(SIGHTS_KEPT)

    def check(self, filters: Filters) -> Filters:
        """The filters, if their viewer may filter on every key they name; else an
        InvalidRequestError for the first key they may not."""
        fields = self._fields()
        unknown = [(given, key) for given, key in named_keys(filters) if key not in fields]
        if not unknown:
            return filters  # the common case: built-in keys and schema fields, no store read
        visible = self._visible_keys(filters.viewer)
        for given, key in unknown:
            if key not in visible:
                raise InvalidRequestError(refusal(given, key, fields, visible))
        return filters

    def _fields(self) -> frozenset[str]:
        if self._schema is None:  # read at first use: most commands filter nothing
            self._schema = load_schema(self._settings.metadata_schema)
        return frozenset(self._schema.fields) | frozenset(DERIVED)

    def _visible_keys(self, viewer: Viewer | None) -> frozenset[str]:
        return self._visible.get(
            self._store.generation(),
            sight_of(viewer),
            lambda: frozenset(self._store.metadata_keys(Filters(viewer=viewer))),
        )


def named_keys(filters: Filters) -> Iterator[tuple[str, str]]:
    """(the key as given, the metadata key it reads) for each metadata key the filters name."""
    for key in filters.equals:
        if key != "classification":  # a column, checked where filters are parsed
            yield key, key
    for key, (low, _) in filters.ranges.items():
        yield (f"{key}_min" if low is not None else f"{key}_max"), key


def refusal(given: str, key: str, fields: frozenset[str], visible: frozenset[str]) -> str:
    """Why `given` is refused: what filters take, and the nearest usable key if one is close.
    Visible keys are never listed (there may be hundreds), only offered as the nearest."""
    what = "" if given == key else f" ({key!r} is not a metadata key)"
    near = _nearest(key, fields | visible)
    hint = f"; did you mean {near + given[len(key) :]!r}?" if near else ""
    return (
        f"unknown filter key {given!r}{what}: filters take {', '.join(BUILT_IN)}, "
        f"a metadata field ({', '.join(sorted(fields))}) or a metadata key of a document you "
        f"may see; KEY_min and KEY_max bound a metadata key{hint}"
    )


def _nearest(key: str, known: frozenset[str]) -> str | None:
    folded = [k for k in sorted(known) if k.casefold() == key.casefold()]
    if folded:
        return folded[0]
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return close[0] if close else None
