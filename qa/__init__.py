"""newsroom QA: ask questions of news articles, get back their own sentences, cited.

    import qa
    qa.retrieve("What did Galuzin say?", k=5)   # over the default index (seeds/ -> index/)
    index = qa.Index.build([qa.Document(id="a1", text="...")], path="my-index")
    index.ask("question")                       # -> qa.Answer(question, hits, answered)

The names are loaded on first use (PEP 562), so ``import qa.cli`` for ``qa --help`` stays light.
"""
import importlib
import logging

__all__ = ["retrieve", "Index", "Document", "Hit", "Answer",
           "QAError", "InputError", "IndexFileError", "ModelError"]
__version__ = "0.1.0"

_WHERE = {"retrieve": "default", "Index": "index", "Document": "types", "Hit": "types",
          "Answer": "types", "QAError": "errors", "InputError": "errors",
          "IndexFileError": "errors", "ModelError": "errors"}

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
