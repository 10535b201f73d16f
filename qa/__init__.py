"""newsroom QA: ask questions of news articles, get back their own sentences, cited.

    import qa
    qa.retrieve("What did Galuzin say?", k=5)   # over the default index (seeds/ -> index/)
    index = qa.Index.build([qa.Document(id="a1", text="...")], path="my-index")
    index.ask("question")                       # -> qa.Answer(question, hits, answered)
"""
import logging

from .default import retrieve
from .errors import IndexFileError, InputError, ModelError, QAError
from .index import Index
from .types import Answer, Document, Hit

__all__ = ["retrieve", "Index", "Document", "Hit", "Answer",
           "QAError", "InputError", "IndexFileError", "ModelError"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
