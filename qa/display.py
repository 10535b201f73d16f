"""Text from articles and from people, made safe to show outside HTML (``qa.app.render`` does HTML).

``for_terminal`` removes what a terminal would obey instead of print: escape sequences (window
title, clear screen, hyperlinks, colours), other control characters, and the bidirectional
controls that reorder a line. ``not_text`` names what in a question cannot be text at all: a
lone surrogate, which is what invalid UTF-8 on a command line or a ``"\\ud800"`` in JSON becomes.
"""
from __future__ import annotations

import re

# ESC followed by a CSI (ESC [ ... final), an OSC/DCS/APC/PM/SOS string (up to BEL or ESC \),
# or a single character; the one-byte C1 forms (CSI U+009B, OSC U+009D ...) likewise.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]P^_X]|[\x9d\x90\x9e\x9f\x98])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def for_terminal(text: object, *, lines: bool = False) -> str:
    """``text`` with terminal control sequences and control characters removed; tabs and line
    breaks become spaces unless ``lines``."""
    text = _SEQUENCE.sub("", str(text))
    text = _CONTROL.sub("", text)
    if not lines:
        text = re.sub(r"[\t\n\r]+", " ", text)
    return _LONE_SURROGATE.sub("\ufffd", text)


def not_text(text: str) -> str | None:
    """Why ``text`` cannot be read as text, or None when it can."""
    m = _LONE_SURROGATE.search(text)
    if m is None:
        return None
    code = ord(m.group())
    if 0xDC80 <= code <= 0xDCFF:  # how Python keeps a byte that is not UTF-8 (surrogateescape)
        return f"is not valid UTF-8 (byte 0x{code - 0xDC00:02x}); type it again, or set the " \
               "terminal to UTF-8"
    return f"holds U+{code:04X}, half of a character (a lone surrogate), not text; type it again"
