"""From a query to ranked precedents: the searcher, its candidates, fusion, aspects, diversity,
reranking, snippets and suggestions. Imports the store's protocol, vectors, keywords and
embedding.
"""
