"""The keyword side: reading a query's words, choosing the selective ones, and the BM25 keyword
index cache (tantivy) in parts by marking. Imports the store's protocol, never its SQL.
"""
