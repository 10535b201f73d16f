"""Who may use the chat: user names and password hashes, checked when someone logs in.

A login is given as ``--auth USER:PASSWORD`` (the password is then visible to ``ps`` on this
machine) or in a file named by ``QA_AUTH_FILE``: one ``user:hash`` line each, ``#`` comments and
blank lines allowed, the hash made by ``qa hash-password USER`` (scrypt; the password is read
without echo, or from stdin). Passwords are never logged; given by file, they are never in the
process's arguments or environment either.

    scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64>
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import secrets
import threading
from pathlib import Path

from ..errors import InputError

log = logging.getLogger(__name__)

LOG2_N, R, P = 14, 8, 1  # scrypt: 16 MB and about 50 ms a check
_checking = threading.Semaphore(1)  # one check at a time: guessing cannot take every core


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The ``scrypt$...`` line part for ``password``."""
    if not password:
        raise InputError("the password is empty")
    salt = salt or secrets.token_bytes(16)
    key = _scrypt(password, salt, LOG2_N, R, P)
    return "$".join(["scrypt", str(LOG2_N), str(R), str(P), _b64(salt), _b64(key)])


def verify(password: str, hashed: str) -> bool:
    """Whether ``password`` is the one ``hashed`` was made from."""
    try:
        kind, log2_n, r, p, salt, key = hashed.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = _scrypt(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _well_formed(hashed: str) -> bool:
    """Whether ``hashed`` reads as ``hash_password`` writes it: scrypt, its numbers, a salt and
    a 32-byte key in base64 (a line cut or edited by hand would refuse every login, unsaid)."""
    parts = hashed.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(x.isdigit() for x in parts[1:4]):
        return False
    try:
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, TypeError):
        return False
    return len(salt) >= 8 and len(key) == 32 and 1 <= int(parts[1]) <= 30


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=2 ** log2_n,
                          r=r, p=p, maxmem=2 ** (log2_n + 8) * r, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Logins:
    """The users who may log in; called by Gradio as ``auth(user, password) -> bool``."""

    def __init__(self, users: dict[str, str] | None = None):
        self.users = dict(users or {})  # name -> scrypt hash; plain passwords are never kept

    def __bool__(self) -> bool:
        return bool(self.users)

    def __call__(self, user: str, password: str) -> bool:
        hashed = self.users.get(user)
        with _checking:
            if hashed is None:  # as slow as a wrong password: names cannot be told apart
                verify(password, _dummy())
                ok = False
            else:
                ok = verify(password, hashed)
        if not ok:
            log.warning("failed login for user %r", user[:40])
        return ok

    def add_plain(self, spec: str) -> None:
        """``USER:PASSWORD`` from the command line."""
        user, sep, password = spec.partition(":")
        if not sep or not user.strip() or not password:
            raise InputError("--auth takes USER:PASSWORD, e.g. --auth desk:correct-horse "
                             "(or put user:hash lines in a file named by QA_AUTH_FILE)")
        self.users[user.strip()] = hash_password(password)

    def add_file(self, path: str | os.PathLike) -> None:
        """``user:hash`` lines (``qa hash-password``)."""
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read the logins file ({e.__class__.__name__}); "
                             "QA_AUTH_FILE must name a text file of user:hash lines",
                             path=str(path)) from None
        seen: set[str] = set()
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, hashed = line.partition(":")
            if not sep or not user.strip() or not _well_formed(hashed):
                raise InputError("not a user:hash line (the hash comes from `qa hash-password "
                                 "USER`; a password itself is never written here)",
                                 path=str(path), line=n)
            if user.strip() in seen:  # which of the two lines counts would be anyone's guess
                raise InputError(f"user {user.strip()!r} has a second line here; keep one "
                                 "(`qa hash-password` makes a new one)", path=str(path), line=n)
            seen.add(user.strip())
            self.users[user.strip()] = hashed
        if not self.users:
            raise InputError("no user:hash line in the logins file; make one with "
                             "`qa hash-password USER >> FILE`", path=str(path))


@functools.cache
def _dummy() -> str:
    return hash_password("not a password", salt=b"\0" * 16)


def logins(specs: list[str] | None = None, file: str | None = None) -> Logins:
    """The logins from ``--auth`` values and the ``QA_AUTH_FILE`` file (``file``), if any."""
    result = Logins()
    for spec in specs or []:
        result.add_plain(spec)
    if file:
        result.add_file(file)
    return result
