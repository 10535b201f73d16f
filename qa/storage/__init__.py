"""Storage: the index folder (folder.py reads it, writing.py writes it; its layout is below),
what it holds in memory (stored.py), the vector store (vectors.py) and rows read from disk
(rows.py)."""

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
LOCK = ".lock"
FILES = ("documents.jsonl", "spans.i64", "vectors.f32", "vectors.sum")
SEARCH_FILE = "search.faiss"  # optional: large indexes' approximate search graph
