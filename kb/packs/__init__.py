"""Reading packs for the training unit: making them, suggesting them from a theme, and exporting
them (Markdown, HTML, PDF). Imports the store's protocol, keywords and search's aspects.
"""
