"""Documents as evaluators change them: adding (new documents and versions), curation (edit,
delete, restore, purge, versions, relations), reading kept originals, and the one writer every
change goes through (the writer lock and the vector index cache). Where a document is written.
"""
