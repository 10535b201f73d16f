"""Reading articles from files: .txt (seed shape), .md, .html/.htm and .jsonl.

``read_paths`` never stops at a bad file: it returns the documents it could read and one
``InputError`` per file (or JSONL line) it could not, each naming the file and the fix.
"""
from __future__ import annotations

import codecs
import io
import json
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from .splitter import find_dateline, paragraphs
from ..types import Document

log = logging.getLogger(__name__)

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".jsonl"}
MAX_ARTICLE_BYTES = 20 << 20  # the default; QA_MAX_ARTICLE_MB (read when used) sets another


def max_article_bytes() -> int:
    from .. import config

    return config.max_article_bytes(MAX_ARTICLE_BYTES)


def origin_file(origin: str | None) -> Path | None:
    """The file an article was read from, from its ``origin`` (a JSONL article's is
    "path:line"); None when it has none."""
    if not origin:
        return None
    head, sep, tail = origin.rpartition(":")
    return Path(head if sep and tail.isdigit() else origin)


@dataclass
class ReadResult:
    documents: list[Document] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files with nothing to index, with the reason


def read_paths(paths: list[str | os.PathLike]) -> ReadResult:
    """Read every supported file under ``paths`` (folders recursively, in sorted order)."""
    result = ReadResult()
    result.documents.extend(iter_paths(paths, result))
    return result


def iter_paths(paths: list[str | os.PathLike], result: ReadResult) -> Iterator[Document]:
    """``read_paths`` one article at a time (a JSONL file line by line): a huge archive is
    never held whole. Errors and skipped files go to ``result`` as they are met."""
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            result.errors.append(InputError("no such file or folder; check the path", path=str(raw)))
        elif root.is_dir():
            found = _visible(root)  # one walk: the files read, and those of other types
            for f in sorted(p for p in found if p.suffix.lower() in SUFFIXES):
                yield from _read_from(result, f, f.relative_to(root).as_posix())
            other = Counter(p.suffix.lower() or "(none)" for p in found
                            if p.suffix.lower() not in SUFFIXES)
            if other:
                kinds = ", ".join(f"{suffix} {n}" for suffix, n in sorted(other.items()))
                result.skipped.append(
                    f"{root}: {sum(other.values())} file(s) of a type not read ({kinds}); "
                    f"articles are read from {', '.join(sorted(SUFFIXES))}")
        else:
            yield from _read_from(result, root, root.name)


def count_articles(paths: list[str | os.PathLike]) -> int:
    """About how many articles ``iter_paths`` will give, cheaply (a JSONL file's non-blank
    lines, one per other file), for an ingest's time left."""
    total = 0
    for raw in paths:
        root = Path(raw)
        files = _files(root) if root.is_dir() else [root] if root.is_file() else []
        for f in files:
            if f.suffix.lower() != ".jsonl":
                total += 1
                continue
            try:
                with open(f, "rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except OSError:
                pass  # said when it is read
    return total


def _files(root: Path) -> list[Path]:
    return sorted(p for p in _visible(root) if p.suffix.lower() in SUFFIXES)


def _visible(root: Path) -> list[Path]:
    """Every file under ``root`` outside hidden files and folders."""
    return [p for p in root.rglob("*") if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(root).parts)]


def _read_from(result: ReadResult, path: Path, doc_id: str) -> Iterator[Document]:
    found = 0
    try:
        docs = iter_jsonl(path, result.errors) if path.suffix.lower() == ".jsonl" \
            else read_file(path, doc_id=doc_id, errors=result.errors)
        for doc in docs:
            found += 1
            yield doc
    except InputError as e:
        result.errors.append(e)
        return
    if not found:
        result.skipped.append(f"{path}: no text to index")


def read_file(path: Path, doc_id: str | None = None,
              errors: list[InputError] | None = None) -> list[Document]:
    """Documents in one file. JSONL line errors go to ``errors`` when given (else raise)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"unsupported file type {suffix or '(none)'}; use one of "
                         f"{', '.join(sorted(SUFFIXES))}", path=str(path))
    doc_id = doc_id or path.name
    if suffix == ".jsonl":
        return read_jsonl(path, errors)
    text = decode(path)
    if not text.strip():
        return []
    if suffix in (".html", ".htm"):
        doc = parse_html(text, doc_id)
    elif suffix in (".md", ".markdown"):
        doc = parse_markdown(text, doc_id)
    else:
        doc = parse_txt(text, doc_id)
    if doc is None:
        return []
    doc.origin = str(path)
    return [doc]


_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(path: Path, data: bytes | None = None) -> str:
    """File bytes as text: UTF-8 (BOM allowed); UTF-16 or UTF-32 with a BOM; else the encoding
    charset-normalizer finds, with a warning. Binary (and oversized) files are refused."""
    if data is None:
        size = path.stat().st_size
        if size > max_article_bytes():
            raise InputError(f"{size / 1e6:.0f} MB is over the {max_article_bytes() // 2**20} MB limit "
                             "for one article; split it, or use .jsonl for many articles, or raise "
                             "QA_MAX_ARTICLE_MB", path=str(path))
        data = path.read_bytes()
    binary = InputError("looks like a binary file, not text; give .txt, .md, .html or .jsonl",
                        path=str(path))
    try:
        if data.startswith(_BOMS):  # the "utf-16"/"utf-32" codecs read the BOM and drop it
            text = data.decode("utf-32" if data[:4] in _BOMS[:2] else "utf-16")
        elif b"\x00" in data[:8192]:
            raise binary
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if data.startswith(_BOMS):
            raise binary from None
        from charset_normalizer import from_bytes  # only for text that is not UTF-8

        best = from_bytes(data).best()
        if best is None:  # no encoding makes sense of it: random bytes, an image, an archive
            raise binary from None
        log.warning("%s is not UTF-8 (byte %d); read as %s", path, e.start, best.encoding)
        text = str(best)
    if _mostly_controls(text[:8192]):
        raise binary
    return text


def _mostly_controls(sample: str) -> bool:
    """More than one character in 20 a control character (not a tab or line break): not text."""
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v")
                   or 127 <= ord(ch) < 160)
    return controls * 20 > len(sample)


def parse_txt(text: str, doc_id: str) -> Document:
    """Seed shape: first line the headline, then the standfirst and body. The dateline becomes
    metadata (place, date, agency as source)."""
    text = _normalise_newlines(text)
    first, _, rest = text.partition("\n")
    title, body = first.strip(), rest.strip("\n")
    if not body.strip():  # a one-line file is all body
        title, body = "", text.strip()
    doc = Document(id=doc_id, text=body, title=title)
    _apply_dateline(doc)
    return doc


def _apply_dateline(doc: Document) -> None:
    for para in paragraphs(doc.text)[:3]:
        dl = find_dateline(doc.text, para.start)
        if dl:
            doc.place = doc.place or dl.place.title()
            doc.published = doc.published or dl.date
            doc.source = doc.source or dl.agency
            return


_MD_RULES = [
    (re.compile(r"^```.*$", re.M), ""),                       # code fences
    # No bracket or parenthesis inside the parts, so a match attempt stops at the next one:
    # "[[[[..." or "*a *a *a..." take linear time, not quadratic (a 100 kB line took minutes).
    (re.compile(r"!\[([^\[\]]*)\]\([^()\n]*\)"), ""),            # images: dropped
    (re.compile(r"\[([^\[\]]+)\]\([^()\n]*\)"), r"\1"),         # links: keep the words
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),              # heading marks
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),                   # block quotes
    (re.compile(r"^\s*[-*+]\s+", re.M), ""),                   # bullets
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),                  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),                         # inline code
    (re.compile(r"<[^<>]+>"), ""),                             # inline HTML
]


def parse_markdown(text: str, doc_id: str) -> Document:
    """Markdown to plain text; the first heading (or line) is the headline."""
    text = _normalise_newlines(text)
    front = {}
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if m:  # YAML-ish front matter: key: value lines
        for line in m.group(1).splitlines():
            key, _, value = line.partition(":")
            front[key.strip().lower()] = value.strip().strip("'\"")
        text = text[m.end():]
    title = front.get("title", "")
    heading = re.match(r"\s*#\s+(.+)\n", text)
    if heading and not title:
        title = heading.group(1).strip()
        text = text[heading.end():]
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    doc = Document(id=doc_id, text=text.strip(), title=title,
                   published=front.get("date") or None, source=front.get("source") or None,
                   url=front.get("url") or None)
    if not title:
        return parse_txt(doc.text, doc_id)
    _apply_dateline(doc)
    return doc


def parse_html(html: str, doc_id: str) -> Document | None:
    """Main text of a web page (trafilatura drops navigation, scripts and boilerplate)."""
    import trafilatura  # heavy: only when reading HTML

    extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                            include_tables=False, favor_recall=True)
    if extracted is None or not (extracted.text or "").strip():
        return None
    title = (extracted.title or "").strip()
    text = _normalise_newlines(extracted.text).strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest.strip():
        text = rest.strip()
    doc = Document(id=doc_id, text=text, title=title, published=extracted.date or None,
                   source=extracted.sitename or None, url=extracted.url or None)
    _apply_dateline(doc)
    return doc


def read_jsonl(path: Path, errors: list[InputError] | None = None) -> list[Document]:
    """One article a line: ``id`` and ``text`` required; ``title``, ``published``, ``source``,
    ``url`` optional. A bad line is reported with its number; the other lines still count."""
    return list(iter_jsonl(path, errors))


def iter_jsonl(path: Path, errors: list[InputError] | None = None) -> Iterator[Document]:
    """``read_jsonl`` line by line."""
    seen: dict[str, int] = {}
    with open(path, "rb") as fh:
        head = fh.read(8192)
        fh.seek(0)
        lines = fh
        if head.startswith(_BOMS):  # UTF-16/32 with a BOM: read as text, each line as UTF-8
            wide = io.TextIOWrapper(fh, encoding="utf-32" if head[:4] in _BOMS[:2] else "utf-16",
                                    errors="replace", newline="")
            lines = (line.encode("utf-8", "surrogatepass") for line in wide)
        elif b"\x00" in head:
            raise InputError("looks like a binary file, not JSON lines", path=str(path))
        for lineno, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                doc = _jsonl_document(raw, path, lineno)
                if doc.id in seen:
                    raise InputError(f"duplicate id {doc.id!r} (first on line {seen[doc.id]}); "
                                     "ids must be unique, this line was skipped",
                                     path=str(path), line=lineno)
            except InputError as e:
                if errors is None:
                    raise
                errors.append(e)
                continue
            seen[doc.id] = lineno
            yield doc


def _jsonl_document(raw: bytes, path: Path, lineno: int) -> Document:
    def bad(msg: str) -> InputError:
        return InputError(msg, path=str(path), line=lineno)

    if len(raw) > max_article_bytes():
        raise bad(f"line is over the {max_article_bytes() // 2**20} MB limit for one article")
    try:
        text = raw.decode("utf-8-sig").rstrip("\r\n")
        obj = json.loads(text)
    except UnicodeDecodeError:
        raise bad("not UTF-8; save the file as UTF-8") from None
    except json.JSONDecodeError as e:
        where = "the line ends too early" if e.pos >= len(text.rstrip()) else \
            f"at column {e.pos + 1}"  # of this line: the file's line feed is not part of it
        raise bad(f"not valid JSON ({e.msg}, {where}); each line must be one "
                  'JSON object like {"id": "a1", "text": "..."}') from None
    except (ValueError, RecursionError) as e:  # a number past Python's digit limit, deep nesting
        raise bad(f"not usable JSON ({str(e)[:80]}); each line must be one JSON object like "
                  '{"id": "a1", "text": "..."}') from None
    if not isinstance(obj, dict):
        raise bad('each line must be a JSON object like {"id": "a1", "text": "..."}')
    obj = {k: _no_lone_surrogates(v) if isinstance(v, str) else v for k, v in obj.items()}
    doc_id, text = obj.get("id"), obj.get("text")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise bad('missing "id" (a non-empty string)')
    if not isinstance(text, str) or not text.strip():
        raise bad(f'article {doc_id!r} has no "text" (a non-empty string)')
    meta = {}
    for key in ("title", "published", "source", "url"):
        value = obj.get(key)
        if value is not None and not isinstance(value, (str, int, float)):
            raise bad(f'"{key}" must be a string')
        meta[key] = None if value is None else str(value)
    doc = Document(id=doc_id.strip(), text=_normalise_newlines(text), title=meta["title"] or "",
                   published=meta["published"], source=meta["source"], url=meta["url"],
                   origin=f"{path}:{lineno}")
    _apply_dateline(doc)
    return doc


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_lone_surrogates(text: str) -> str:
    """JSON's "\\ud800" escapes give strings that UTF-8 (and the model's tokenizer) cannot take."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
