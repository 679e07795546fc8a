"""The SQLite store's reading packs."""

from __future__ import annotations

import json
from typing import Any

from kb import sql_packs
from kb.models import Pack, PackItem
from kb.sqlite_history import SQLiteHistory
from kb.sqlite_rows import utc_now


class SQLitePacks(SQLiteHistory):
    def create_pack(self, title: str, audience: str, objectives: list[str], owner: str) -> int:
        with self._transaction():
            cursor = self._db.execute(
                sql_packs.INSERT_PACK,
                {
                    "title": title,
                    "audience": audience,
                    "objectives": json.dumps(objectives, ensure_ascii=False),
                    "owner": owner,
                    "now": utc_now(),
                },
            )
        return int(cursor.lastrowid or 0)

    def get_pack(self, pack_id: int) -> Pack | None:
        with self._lock:
            row = self._db.execute(sql_packs.GET_PACK, (pack_id,)).fetchone()
            items = self._db.execute(sql_packs.PACK_ITEMS, (pack_id,)).fetchall()
        return None if row is None else _pack(row, items)

    def list_packs(self) -> list[Pack]:
        with self._lock:
            rows = self._db.execute(sql_packs.LIST_PACKS).fetchall()
        return [_pack(row, []) for row in rows]

    def add_pack_item(self, pack_id: int, document_id: str, chunk_id: int | None, note: str) -> int:
        """Append an item; returns its position."""
        with self._transaction():
            position = int(self._db.execute(sql_packs.NEXT_POSITION, (pack_id,)).fetchone()[0])
            self._db.execute(
                sql_packs.INSERT_ITEM, (pack_id, position, document_id, chunk_id, note)
            )
            self._db.execute(sql_packs.TOUCH_PACK, (utc_now(), pack_id))
        return position

    def delete_pack(self, pack_id: int) -> None:
        with self._transaction():
            self._db.execute(sql_packs.DELETE_PACK, (pack_id,))


def _pack(row: Any, items: list[Any]) -> Pack:
    return Pack(
        pack_id=int(row[0]),
        title=row[1],
        audience=row[2],
        objectives=tuple(json.loads(row[3])),
        owner=row[4],
        created_at=row[5],
        updated_at=row[6],
        items=tuple(PackItem(int(p), d, None if c is None else int(c), n) for p, d, c, n in items),
    )
