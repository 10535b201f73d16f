"""Logins: scrypt hashes, the QA_AUTH_FILE format, and `qa hash-password`."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from qa.errors import InputError
from qa.app.logins import hash_password, logins, verify


def test_a_hash_verifies_its_password_only():
    hashed = hash_password("correct horse")
    assert hashed.startswith("scrypt$14$8$1$") and "correct" not in hashed
    assert verify("correct horse", hashed) and not verify("correct hors", hashed)
    assert hash_password("correct horse") != hashed  # salted
    assert not verify("x", "scrypt$14$8$1$bad") and not verify("x", "md5$abc")


def test_logins_from_the_command_line_and_a_file(tmp_path):
    f = tmp_path / "logins"
    f.write_text(f"# the desk\n\nann:{hash_password('ann-pw')}\n")
    users = logins(["bob:bob:pw:with:colons"], str(f))
    assert users("ann", "ann-pw") and users("bob", "bob:pw:with:colons")
    assert not users("ann", "bob:pw:with:colons") and not users("carol", "ann-pw")
    assert "bob:pw" not in repr(users.users)  # only hashes are kept


@pytest.mark.parametrize("text, message", [
    ("ann:plain-password\n", "logins:1: not a user:hash line"),
    ("", "no user:hash line"),
    # a hash cut or edited by hand would refuse every login without a word (a user sweep)
    ("ann:scrypt$14$8$1$xx$yy\n", "logins:1: not a user:hash line"),
    (f"ann:{hash_password('pw')[:-6]}\n", "logins:1: not a user:hash line"),
    (f"ann:{hash_password('one')}\nann:{hash_password('two')}\n",
     "logins:2: user 'ann' has a second line"),
])
def test_a_bad_logins_file_is_named(tmp_path, text, message):
    f = tmp_path / "logins"
    f.write_text(text)
    with pytest.raises(InputError, match=message):
        logins([], str(f))


@pytest.mark.parametrize("spec", ["nopassword", ":pw", "ann:"])
def test_a_bad_auth_option_names_the_form(spec):
    with pytest.raises(InputError, match="USER:PASSWORD"):
        logins([spec])


def test_qa_hash_password_reads_the_password_from_stdin():
    done = subprocess.run([sys.executable, "-m", "qa", "hash-password", "ann"], input="ann-pw\n",
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and done.stderr == ""
    user, _, hashed = done.stdout.strip().partition(":")
    assert user == "ann" and verify("ann-pw", hashed) and "ann-pw" not in done.stdout
