"""A JSON API beside the chat, on the same server and port, for other newsroom tools.

    GET /api/ask?q=QUESTION&k=5     what `qa ask --json` prints: {"question", "answered", "hits"}
        &since=2022-02-01&until=2022-02-28&source=TASS   optional limits (source repeats); k
        left out: 5 sentences, or every statement of a "what did X say" question
    GET /api/articles               the indexed articles: id, title, source, date, url, sentences

Errors are JSON too: ``{"error": "..."}`` with status 400 (a bad question or k) or 500. The
routes sit behind the same guard as the chat (``qa.app.guard``): with logins set they need one (the
chat's login cookie, or HTTP Basic with the same user and password), and requests from another
origin are refused. Both only read, so read-only mode keeps them. Described in the server's
OpenAPI page (``/api/docs``).
"""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def routes() -> list:
    """The API's routes, for the chat's FastAPI app."""
    from fastapi import Query
    from fastapi.routing import APIRoute

    def ask(q: str = Query("", description="the question, in plain language"),
            k: str = Query("", description="how many sentences (a whole number, 1 or more; "
                           "left out: 5, or every statement for a \"what did X say\" question)"),
            since: str = Query("", description="only articles published on or after this date "
                               "(2022-02-01)"),
            until: str = Query("", description="only articles published on or before this date"),
            source: list[str] = Query([], description="only articles from this source "
                                      "(repeat for several)")):
        """Ask the articles a question: the sentences that answer it, best first, cited."""
        from ..default import default_index
        from ..errors import QAError

        if k.strip() and not k.strip().isdigit():
            return _error(400, f"k must be a whole number of at least 1, not {k[:20]!r}")
        try:
            answer = default_index().ask(q, k=int(k) if k.strip() else None,
                                         since=since.strip() or None,
                                         until=until.strip() or None, sources=source or None)
        except QAError as e:
            return _error(400, str(e))
        return answer.to_dict()

    def articles():
        """Every indexed article, with its number of sentences."""
        from ..default import default_index

        return [_article(doc, size) for doc, size in default_index().catalogue()]

    return [APIRoute("/api/ask", ask, methods=["GET"], tags=["newsroom QA"],
                     responses={400: {"description": "a bad question or k: {\"error\": ...}"}}),
            APIRoute("/api/articles", articles, methods=["GET"], tags=["newsroom QA"])]


def _article(doc, size: int) -> dict[str, Any]:
    return {"id": doc.id, "title": doc.title, "source": doc.source, "published": doc.published,
            "url": doc.url, "sentences": size}


def _error(status: int, message: str):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)
