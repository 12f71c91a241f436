"""Password hashing with the standard library's scrypt (memory-hard; no extra dependency).

A password given in the environment is hashed at start and the clear text dropped; an operator
can also store the hash itself (``alphadesk web hash-password``), so the clear text never sits in
the environment at all. The format is self-describing: ``scrypt$n$r$p$salt$hash`` (base64).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "scrypt$"
N, R, P = 2**14, 8, 1
_DKLEN = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_DKLEN)
    return f"{PREFIX}{n}${r}${p}${_b64(salt)}${_b64(digest)}"


def is_hash(text: str) -> bool:
    return text.startswith(PREFIX) and text.count("$") == 5


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` result."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def token_digest(token: str) -> str:
    """API tokens are long random strings: a SHA-256 digest is enough to store them safely and,
    unlike scrypt, cheap enough to check on every request."""
    return hashlib.sha256(token.encode()).hexdigest()
