"""The middle floor: files to documents. Readers (pages), chunking (passages with their pages),
the pipeline that hands them to the knowledge base, and the ingest jobs. Imports `kb` (the store
through its protocol only), never `api`.
"""
