"""The keyword index on disk: one tantivy index ("part") per marking, each with its state.

BM25 scores a word by how many passages hold it and how long passages are on average. Over
one index of every passage, a reader's scores would count passages they may not see: adding
a confidential report that says "observers" would lower a public reader's score for
"observers". So passages are parted by their document's marking (classification and groups):
every passage of a part is visible to exactly the same readers, a reader searches the parts
they may see (kb.keywords.index), and what they may not see never enters a statistic.

Each part records, beside its files, how far through the store's keyword log it is current
(`state.json`, written after the commit it describes, so never ahead of it: a part behind is
caught up again, and catching up is idempotent). A part is committed only when its own
passages change: a commit of unchanged content still moves tantivy's document counts (a
deleted document counts until segments merge), and a write a reader may not see must not
touch what they read.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tantivy

from kb.files import create_private_file, make_files_private, make_private_folder
from kb.store.protocol import KeywordText, Marking

log = logging.getLogger(__name__)

FOLDER = "keywords"  # one sub-folder per part
OLD_FOLDER = "keyword"  # the single index of earlier releases: removed, rebuilt as parts
LOCK = "keywords.lock"  # beside the folder: a rebuild removes the folder itself
STATE = "state.json"
FIELD = "body"
# Every passage holds this one term: its document frequency is the passage count BM25 uses
# (deleted passages included until segments merge), which `Searcher.num_docs` is not.
EVERY = "every"
EVERY_TERM = "1"
ANALYZER = "kb_words"  # registered on each opening: an index records only the name
WRITER_HEAP = 64_000_000  # bytes of tantivy's indexing buffer (at least 3 MB a thread)


@dataclass(frozen=True)
class PartState:
    """How far a part is current: the keyword log position and the store's vectors stamp."""

    seq: int
    stamp: str
    marking: Marking


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("cid", stored=False, indexed=True, fast=True)
    builder.add_text_field(EVERY, stored=False, tokenizer_name="raw", index_option="basic")
    # Positions kept for quoted phrases.
    builder.add_text_field(FIELD, stored=False, tokenizer_name=ANALYZER)
    return builder.build()


def analyzer() -> tantivy.TextAnalyzer:
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


def document(text: KeywordText) -> tantivy.Document:
    # The title twice: a title word weighs double, as the FTS5 column weights give it.
    body = "\n".join((text.title, text.title, text.heading, text.text))
    return tantivy.Document(cid=text.chunk_id, body=body, every=EVERY_TERM)


class PartsBusyError(OSError):
    """Another process is changing the keyword index (its `keywords.lock`)."""


def part_name(marking: Marking) -> str:
    """A part's folder: its level, and a digest of its groups (names may hold any character)."""
    level, groups = marking
    if not groups:
        return f"level{level}"
    digest = hashlib.sha256("\x1f".join(groups).encode()).hexdigest()[:16]
    return f"level{level}-{digest}"


class Parts:
    """The parts under one store's `keywords/` folder. Not thread-safe: the KeywordIndex holds
    its lock around every change."""

    def __init__(self, store_folder: Path) -> None:
        self.folder = store_folder / FOLDER
        self._lock_path = store_folder / LOCK
        shutil.rmtree(store_folder / OLD_FOLDER, ignore_errors=True)
        # Each part's index with the identity of the folder it was opened in: a rebuild by
        # another process makes new folders, whose indexes must be opened anew.
        self.indexes: dict[Marking, tuple[int, tantivy.Index]] = {}

    @contextmanager
    def exclusive(self, wait: bool = False) -> Iterator[None]:
        """Hold the index for changing it, across processes; PartsBusyError at once if another
        process holds it, unless `wait` (the kernel lets go of it when its holder dies)."""
        create_private_file(self._lock_path)
        with open(self._lock_path, "a") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as exc:
                raise PartsBusyError("LockBusy: another process is changing the index") from exc
            yield  # closing the file lets go of the lock

    def states(self) -> dict[Marking, PartState | None] | None:
        """Each part's state as its files say (None: unreadable, so not to be trusted); None
        when there are no parts at all."""
        if not self.folder.is_dir():
            return None
        found: dict[Marking, PartState | None] = {}
        for sub in sorted(self.folder.iterdir()):
            state = _read_state(sub / STATE)
            if state is None or part_name(state.marking) != sub.name:
                return {(-1, (sub.name,)): None}  # a part that cannot be read: all rebuilt
            found[state.marking] = state
        return found or None

    def index(self, marking: Marking) -> tantivy.Index:
        """A part's index, opened (or created) once per folder and process."""
        folder = self.folder / part_name(marking)
        make_private_folder(folder)
        identity = folder.stat().st_ino
        opened = self.indexes.get(marking)
        if opened is not None and opened[0] == identity:
            return opened[1]
        index = tantivy.Index(schema(), path=str(folder), reuse=True)
        index.register_tokenizer(ANALYZER, analyzer())
        make_files_private(folder)  # tantivy makes its files with the umask's mode
        self.indexes[marking] = (identity, index)
        return index

    def discard(self) -> None:
        self.indexes.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def rebuild(self, batches: Iterable[list[KeywordText]], end: int, stamp: str) -> int:
        """Every part afresh, from every live passage in one pass; returns how many."""
        self.discard()
        make_private_folder(self.folder)
        writers: dict[Marking, tantivy.IndexWriter] = {}
        count = 0
        for batch in batches:
            for text in batch:
                writer = writers.get(text.marking)
                if writer is None:
                    writer = writers[text.marking] = self.index(text.marking).writer(
                        WRITER_HEAP * 2, 0
                    )
                writer.add_document(document(text))
            count += len(batch)
        for marking, writer in writers.items():
            writer.commit()
            writer.wait_merging_threads()  # also lets go of tantivy's writer lock
            make_files_private(self.folder / part_name(marking))
        # States last: a build killed before them leaves parts without one, rebuilt again.
        for marking in writers:
            self.index(marking).reload()
            _write_state(self.folder / part_name(marking), PartState(end, stamp, marking))
        return count

    def apply(
        self,
        marking: Marking,
        changed: Sequence[int],
        texts: Sequence[KeywordText],
        end: int,
        stamp: str,
    ) -> None:
        """Bring one part to log position `end`: the passages in `changed` leave it, and those
        of `texts` carrying its marking come back (as they are now). No commit when nothing of
        this part changed."""
        index = self.index(marking)
        index.reload()  # another process may have committed to it since it was last read
        mine = [t for t in texts if t.marking == marking]
        present = False
        if changed:
            query = tantivy.Query.term_set_query(index.schema, "cid", [int(c) for c in changed])
            present = bool(index.searcher().search(query, 1, count=False).hits)
        if present or mine:
            writer = index.writer(WRITER_HEAP, 1)
            for chunk_id in changed:
                writer.delete_documents_by_term("cid", int(chunk_id))
            for text in mine:
                writer.add_document(document(text))
            writer.commit()
            writer.wait_merging_threads()
            make_files_private(self.folder / part_name(marking))
            index.reload()
        _write_state(self.folder / part_name(marking), PartState(end, stamp, marking))


def _read_state(path: Path) -> PartState | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        level, groups = int(raw["level"]), tuple(str(g) for g in raw["groups"])
        return PartState(int(raw["seq"]), str(raw["stamp"]), (level, groups))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(folder: Path, state: PartState) -> None:
    """Written whole or not at all (a rename), owner-only as the rest of the store."""
    level, groups = state.marking
    text = json.dumps(
        {"seq": state.seq, "stamp": state.stamp, "level": level, "groups": list(groups)}
    )
    temporary = folder / f".{STATE}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, folder / STATE)
