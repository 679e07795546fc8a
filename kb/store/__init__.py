"""The store: the protocol the rest of the core and the API rely on (`kb.store.protocol`),
opening a store (`kb.store.backends`) and the SQL logic shared by its dialects
(`kb.store.sql_store`, on a `kb.store.dialect.Dialect`); the dialects are leaves (`sqlite/`,
`postgres/`). Imports `kb`'s records, errors, access and settings; nothing
from search, vectors, embedding or packs.
"""
