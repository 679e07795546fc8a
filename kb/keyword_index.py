"""The keyword index cache: BM25 over every passage with tantivy, kept beside the store.

FTS5 scores every passage a query matches before it can return the best, so at a million
passages a brief's keyword search costs tens of milliseconds even with its words cut down
(kb.selectivity). tantivy skips the passages that cannot reach the top (block-max WAND) and
ranks all matches, not the latest few thousand: a few milliseconds at a million passages.

Like the FAISS index it is a cache, rebuilt from SQLite whenever in doubt. The store's
`keyword_log` (written by triggers, in the transaction of each change, whatever process makes
it) names every passage added, removed or retitled; the index holds, in the same tantivy
commit as its passages, a marker with the log position it has read to and the store's
vectors stamp (which a restore from backup changes). A search uses the index only when that
marker is the store's present state: a short lag is caught up first (the search waits a few
milliseconds), a long one or a first build runs in the background while FTS5 serves.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass

import tantivy

from kb.allowed import Allowed
from kb.files import make_files_private
from kb.query import WORD, ParsedQuery
from kb.settings import Settings
from kb.store import KeywordText, Store

log = logging.getLogger(__name__)

FOLDER = "keyword"
MARKER = -1  # the chunk id of the document that records the log position read to
FIELD = "body"
ANALYZER = "kb_words"  # registered on each opening: an index records only the name
BATCH = 5_000  # passages read from the store per step of a build
WRITER_HEAP = 64_000_000  # bytes of tantivy's indexing buffer (at least 3 MB a thread)
# Filtered searches: a set of at most this many passages is searched within (a term set on
# chunk ids); a larger one is kept from the best matches, fetched in proportion to its share.
WITHIN_MOST = 20_000
FETCH_MOST = 20_000


@dataclass(frozen=True)
class Marker:
    seq: int
    stamp: str


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("cid", stored=False, indexed=True, fast=True)
    builder.add_integer_field("seq", stored=True, indexed=False)
    builder.add_text_field("stamp", stored=True, tokenizer_name="raw")
    # Positions kept for quoted phrases.
    builder.add_text_field(FIELD, stored=False, tokenizer_name=ANALYZER)
    return builder.build()


def _analyzer() -> tantivy.TextAnalyzer:
    """tantivy's `en_stem` plus accents folded, as FTS5's `remove_diacritics`: "Cote d'Ivoire"
    finds "Côte d'Ivoire"."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _busy(exc: BaseException) -> bool:
    """Whether tantivy refused a writer because another one (maybe in another process) works."""
    return "LockBusy" in str(exc)


def _body(text: KeywordText) -> str:
    # The title twice: a title word weighs double, as the FTS5 column weights give it.
    return "\n".join((text.title, text.title, text.heading, text.text))


class KeywordIndex:
    """One store's tantivy index; thread-safe (the server's threads share it)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        stamp: Callable[[], str],
        within_most: int = WITHIN_MOST,
    ) -> None:
        self._store = store
        self._within_most = within_most
        self._settings = settings
        self._stamp = stamp  # the store's vectors stamp: changed by a restore from backup
        self._folder = settings.store / FOLDER
        self._lock = threading.Lock()  # one catch-up at a time in this process
        self._index: tantivy.Index | None = None
        self._current_at: int | None = None  # store generation at which the index was current
        self._builder: threading.Thread | None = None
        self._failed_at: int | None = None  # generation at which a background build failed
        self._analyzer = _analyzer()  # the index's own, for the query's tokens

    # -- searching ----------------------------------------------------------------------

    def search(
        self, query: ParsedQuery, limit: int, allowed: Allowed | None
    ) -> list[tuple[int, float]] | None:
        """Chunk ids and BM25 scores, best first; None when the index is not at the store's
        present state (the caller searches FTS5 instead)."""
        index = self._ready()
        if index is None:
            return None
        parsed = self._query(index.schema, query)
        if parsed is None:
            return []
        searcher = index.searcher()
        fetch = limit
        if allowed is not None:
            if len(allowed.ids) <= self._within_most:
                within = tantivy.Query.term_set_query(
                    index.schema, "cid", [int(i) for i in allowed.ids]
                )
                parsed = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, parsed), (tantivy.Occur.Must, within)]
                )
            else:
                share = len(allowed.ids) / max(1, searcher.num_docs)
                fetch = min(FETCH_MOST, max(limit, math.ceil(2 * limit / share)))
        hits = searcher.search(parsed, fetch, count=False).hits
        ids = searcher.fast_field_values("cid", [address for _, address in hits])
        found = [(int(i), float(s)) for i, (s, _) in zip(ids, hits, strict=True) if i is not None]
        return found[:limit] if allowed is None else allowed.keep(found, limit)

    def _query(self, schema: tantivy.Schema, query: ParsedQuery) -> tantivy.Query | None:
        """Any of the query's words or quoted phrases, built from the index's own analyzer's
        tokens rather than by tantivy's query parser: no user text is ever syntax (a parser
        refused some Unicode words outright)."""
        clauses: list[tantivy.Query] = []
        for phrase in query.phrases:
            words: list[str | tuple[int, str]] = list(
                self._analyzer.analyze(" ".join(WORD.findall(phrase)))
            )
            if len(words) > 1:
                clauses.append(tantivy.Query.phrase_query(schema, FIELD, words))
            elif words:
                clauses.append(tantivy.Query.term_query(schema, FIELD, str(words[0]), "freq"))
        tokens = (token for term in query.terms for token in self._analyzer.analyze(term))
        for token in dict.fromkeys(tokens):
            clauses.append(tantivy.Query.term_query(schema, FIELD, token, "freq"))
        if not clauses:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])

    # -- keeping it current -------------------------------------------------------------

    def _ready(self) -> tantivy.Index | None:
        generation = self._store.generation()
        index = self._index
        if index is not None and self._current_at == generation:
            return index
        with self._lock:
            if self._builder is not None and self._builder.is_alive():
                return None
            if self._failed_at == generation:
                return None  # tried at this state of the store already; the log says why
            caught_up = self._try_catch_up(generation, self._settings.keyword_sync_rows)
            if caught_up:
                return self._index
            if caught_up is None:  # another process is writing it: FTS5 serves this search
                return None
            self._builder = threading.Thread(
                target=self._build_in_background, name="kb-keyword-build", daemon=True
            )
            self._builder.start()
            return None

    def _catch_up(self, generation: int, most: int | None) -> bool:
        """Bring the index to the store's present state if that means re-reading at most
        `most` passages (None: any number); False if it would mean more. Caller holds the lock."""
        index = self._open()
        index.reload()  # another process may have committed since
        start, end = self._store.keyword_log_span()
        marker, stamp = self._marker(index), self._stamp()
        if marker is not None and marker == Marker(end, stamp):
            self._current_at = generation
            return True
        # No marker, another stamp (a restore), ahead of the log or behind its start: rebuild.
        if marker is None or marker.stamp != stamp or not start - 1 <= marker.seq <= end:
            if most is not None and self._store.keyword_rows() > most:
                return False
            self._rebuild(index, end, stamp)
        else:
            if most is not None and end - marker.seq > most:
                return False
            changed = self._store.keyword_changes(marker.seq, end)
            writer = index.writer(WRITER_HEAP, 1)
            for chunk_id in changed:
                writer.delete_documents_by_term("cid", chunk_id)
            for text in self._store.keyword_texts(changed):
                writer.add_document(tantivy.Document(cid=text.chunk_id, body=_body(text)))
            self._commit(writer, end, stamp)
        index.reload()
        self._current_at = generation
        return True

    def _try_catch_up(self, generation: int, most: int | None) -> bool | None:
        """As `_catch_up`, but None when another process holds tantivy's writer lock; damaged
        files are discarded (False: the caller rebuilds). Caller holds the lock."""
        try:
            return self._catch_up(generation, most)
        except (OSError, ValueError) as exc:
            if _busy(exc):
                return None
            log.warning("keyword index at %s unusable (%s): rebuilding", self._folder, exc)
            self._discard()
            return False

    def _rebuild(self, index: tantivy.Index, end: int, stamp: str) -> None:
        writer = index.writer(WRITER_HEAP * 4, 0)
        writer.delete_all_documents()
        count = 0
        for batch in self._store.iter_keyword_texts(BATCH):
            for text in batch:
                writer.add_document(tantivy.Document(cid=text.chunk_id, body=_body(text)))
            count += len(batch)
        self._commit(writer, end, stamp)
        log.info("built the keyword index of %d passages (log position %d)", count, end)

    def _commit(self, writer: tantivy.IndexWriter, end: int, stamp: str) -> None:
        writer.delete_documents_by_term("cid", MARKER)
        writer.add_document(tantivy.Document(cid=MARKER, seq=end, stamp=stamp))
        writer.commit()
        writer.wait_merging_threads()  # also lets go of tantivy's writer lock
        make_files_private(self._folder)  # tantivy makes its files with the umask's mode

    def _build_in_background(self) -> None:
        generation = self._store.generation()
        try:
            with self._lock:
                self._catch_up(generation, None)
        except Exception as exc:
            if _busy(exc):
                log.info("keyword index: another process is writing it; FTS5 serves meanwhile")
            else:
                log.exception("building the keyword index in the background failed")
                self._failed_at = generation

    def _open(self) -> tantivy.Index:
        if self._index is None:
            self._folder.mkdir(mode=0o700, exist_ok=True)
            try:
                index = tantivy.Index(_schema(), path=str(self._folder), reuse=True)
            except ValueError:  # another schema: an index of an older release
                self._discard()
                self._folder.mkdir(mode=0o700, exist_ok=True)
                index = tantivy.Index(_schema(), path=str(self._folder), reuse=True)
            index.register_tokenizer(ANALYZER, _analyzer())
            make_files_private(self._folder)
            self._index = index
        return self._index

    def _discard(self) -> None:
        self._index, self._current_at = None, None
        shutil.rmtree(self._folder, ignore_errors=True)

    @staticmethod
    def _marker(index: tantivy.Index) -> Marker | None:
        searcher = index.searcher()
        hits = searcher.search(tantivy.Query.term_query(index.schema, "cid", MARKER), 1).hits
        if not hits:
            return None
        fields = searcher.doc(hits[0][1]).to_dict()
        return Marker(int(fields["seq"][0]), str(fields["stamp"][0]))

    def refresh(self) -> bool:
        """Bring the index current now if that is quick, else start a background catch-up;
        whether it is current (a server calls this at start, not at its first search)."""
        return self._ready() is not None

    def prepare(self) -> bool:
        """Bring the index to the store's present state now, however long that takes (a
        build at a million passages: about two minutes on two cores); damaged files are
        rebuilt. False if another process is writing it: whoever searches next catches up."""
        self.wait()
        with self._lock:
            generation = self._store.generation()
            caught_up = self._try_catch_up(generation, None)
            if caught_up is None:
                return False
            if not caught_up:  # its files were damaged and are gone
                self._catch_up(generation, None)
        return True

    def rebuild(self) -> None:
        """Build the index afresh from the store, whatever its files hold (`kb reindex`)."""
        self.wait()
        with self._lock:
            self._discard()
            self._catch_up(self._store.generation(), None)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background build to end; False if it is still running."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return builder is None or not builder.is_alive()
