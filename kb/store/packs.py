"""The store's reading packs, on any dialect."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kb.models import Pack, PackItem
from kb.store import sql_common as common
from kb.store.history import SQLHistory
from kb.store.rows import utc_now


class SQLPacks(SQLHistory):
    def create_pack(self, title: str, audience: str, objectives: list[str], owner: str) -> int:
        with self._transaction():
            return self._insert_pack(title, audience, objectives, owner)

    def _insert_pack(self, title: str, audience: str, objectives: list[str], owner: str) -> int:
        cursor = self._run(
            self._dialect.packs.INSERT_PACK,
            {
                "title": title,
                "audience": audience,
                "objectives": json.dumps(objectives, ensure_ascii=False),
                "owner": owner,
                "now": utc_now(),
            },
        )
        return self._dialect.inserted_id(cursor)

    def get_pack(self, pack_id: int) -> Pack | None:
        with self._lock:
            row = self._run(common.GET_PACK, (pack_id,)).fetchone()
            items = self._run(common.PACK_ITEMS, (pack_id,)).fetchall()
        return None if row is None else _pack(row, items)

    def list_packs(self, limit: int | None = None, offset: int = 0) -> list[Pack]:
        """Packs with their items, most recently changed first; all of them without a limit."""
        with self._lock:
            if limit is None:
                rows = self._run(common.LIST_PACKS).fetchall()
            else:
                rows = self._run(common.PAGE_OF_PACKS, (limit, offset)).fetchall()
        items: dict[int, list[Any]] = {}
        for row in self._rows_for(common.PACK_ITEMS_OF, [int(r[0]) for r in rows]):
            items.setdefault(int(row[0]), []).append(row[1:])
        return [
            _pack(row, sorted(items.get(int(row[0]), []), key=lambda i: int(i[1]))) for row in rows
        ]

    def count_packs(self) -> int:
        with self._lock:
            return int(self._run(common.COUNT_PACKS).fetchone()[0])

    def add_pack_items(
        self, pack_id: int, items: Sequence[tuple[str, int | None, str]]
    ) -> list[int]:
        """Append (document_id, chunk_id, note) items, all or none; returns their item_ids."""
        with self._transaction():
            item_ids = [self._append_item(pack_id, *item) for item in items]
            self._touch(pack_id)
        return item_ids

    def _append_item(self, pack_id: int, document_id: str, chunk_id: int | None, note: str) -> int:
        position = int(self._run(common.NEXT_POSITION, (pack_id,)).fetchone()[0])
        cursor = self._run(
            self._dialect.packs.INSERT_ITEM, (pack_id, position, document_id, chunk_id, note)
        )
        return self._dialect.inserted_id(cursor)

    def _touch(self, pack_id: int) -> None:
        self._run(common.TOUCH_PACK, (utc_now(), pack_id))

    def update_pack(self, pack_id: int, title: str, audience: str, objectives: list[str]) -> None:
        with self._transaction():
            self._run(
                common.UPDATE_PACK,
                {
                    "pack_id": pack_id,
                    "title": title,
                    "audience": audience,
                    "objectives": json.dumps(objectives, ensure_ascii=False),
                    "now": utc_now(),
                },
            )

    def set_pack_item_note(self, pack_id: int, item_id: int, note: str) -> bool:
        with self._transaction():
            cursor = self._run(common.UPDATE_NOTE, (note, pack_id, item_id))
            changed = cursor.rowcount
            self._touch(pack_id)
        return changed > 0

    def remove_pack_item(self, pack_id: int, item_id: int) -> bool:
        """Take an item out; those after it move up one place."""
        with self._transaction():
            removed = self._run(common.DELETE_ITEM, (pack_id, item_id)).rowcount
            left = [r[0] for r in self._run(common.PACK_ITEMS, (pack_id,))]
            self._place(pack_id, left)
            self._touch(pack_id)
        return removed > 0

    def order_pack_items(self, pack_id: int, item_ids: Sequence[int]) -> None:
        """Put the pack's items in this order (every item id of the pack, once)."""
        with self._transaction():
            self._place(pack_id, item_ids)
            self._touch(pack_id)

    def _place(self, pack_id: int, item_ids: Sequence[int]) -> None:
        self._run(common.PARK_POSITIONS, (pack_id,))
        self._run_many(common.SET_POSITION, ((p, pack_id, i) for p, i in enumerate(item_ids)))

    def copy_pack(
        self,
        title: str,
        audience: str,
        objectives: list[str],
        owner: str,
        items: Sequence[PackItem],
    ) -> int:
        """A new pack holding these items, in this order, in one transaction."""
        with self._transaction():
            pack_id = self._insert_pack(title, audience, objectives, owner)
            for item in items:
                self._append_item(pack_id, item.document_id, item.chunk_id, item.note)
        return pack_id

    def delete_pack(self, pack_id: int) -> None:
        with self._transaction():
            self._run(common.DELETE_PACK, (pack_id,))


def _pack(row: Any, items: list[Any]) -> Pack:
    return Pack(
        pack_id=int(row[0]),
        title=row[1],
        audience=row[2],
        objectives=tuple(json.loads(row[3])),
        owner=row[4],
        created_at=row[5],
        updated_at=row[6],
        items=tuple(
            PackItem(int(p), d, None if c is None else int(c), n, int(i)) for i, p, d, c, n in items
        ),
    )
