"""newsroom QA: ask questions of news articles, get back their own sentences, cited.

    import qa
    qa.retrieve("What did Galuzin say?", k=5)   # over the default index (seeds/ -> index/)
    index = qa.Index.build([qa.Document(id="a1", text="...")], path="my-index")
    index.ask("question")                       # -> qa.Answer(question, hits, answered)

``Index`` and ``retrieve`` are loaded on first use (PEP 562): they bring numpy and the index
code, which ``qa --help`` has no use for.
"""
import logging

from .errors import IndexFileError, InputError, ModelError, QAError
from .types import Answer, Document, Hit

__all__ = ["retrieve", "Index", "Document", "Hit", "Answer",
           "QAError", "InputError", "IndexFileError", "ModelError"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str):
    if name == "Index":
        from .index import Index as value
    elif name == "retrieve":
        from .default import retrieve as value
    else:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
