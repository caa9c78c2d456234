"""Secrets are compared in constant time: no `==`, `!=` or `in` on a secret-named value.

An AST scan of the request-handling code (domain, web, wire, api, operations) finds every
comparison whose operand is named like a secret (secret, code, token, password, hash,
verifier, signature, csrf, otp, nonce, digest, mac, cookie) and fails on any that is not
listed below with the reason it is not a secret comparison. Secrets are compared with
`hmac.compare_digest` on bytes (on `str` it raises TypeError for non-ASCII input), or
looked up in the database by a hash of the token (refresh tokens, session tokens,
authorization codes, hosted-page cookies), which leaks nothing about the token.

Constants (ALL_CAPS names, string literals) are not secrets, so comparisons with them are
not reported: `name == SOFTWARE_TOKEN_MFA` is a challenge name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "cognate"
SCANNED = ("domain", "web", "wire", "api", "operations")
SECRET_NAME = re.compile(
    r"secret|code|token|password|passwd|hash|verifier|signature|csrf|otp|nonce|digest|"
    r"^mac|mac$|cookie",
    re.IGNORECASE,
)

# (file under src/cognate, the comparison as ast.unparse prints it): why it is not a
# comparison of secrets.
ALLOWED = {
    (
        "domain/auth/derived_tokens.py",
        "claims.get('token_use') != purpose",
    ): "a claim's name-like value of a verified token, not a secret",
    (
        "domain/clients.py",
        "secret_id in existing",
    ): "client secret ids are public identifiers (ListUserPoolClientSecrets)",
    (
        "domain/clients.py",
        "secret_id not in {s.secret_id for s in secrets}",
    ): "client secret ids are public identifiers (ListUserPoolClientSecrets)",
    (
        "domain/risk_engine.py",
        "digest in self._current()",
    ): "a lookup of a password's hash in the breached-password set, like a database lookup",
    (
        "web/oauth/account_pages.py",
        "password != str(form.get('password_again') or '')",
    ): "the two password fields of one form, both typed by the same user",
    (
        "web/oauth/endpoints.py",
        "code in ('UnauthorizedException', 'NotAuthorizedException', 'ResourceNotFoundException')",
    ): "an AWS error code",
    ("wire/endpoint.py", "error.code not in model.error_names(operation)"): "an AWS error code",
}


def _terminal(node: ast.AST) -> str | None:
    """The name a comparison operand is known by: `x`, `a.x`, `f(...)`'s f, `d['x']`,
    `d.get('x')`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            return node.args[0].value
        return _terminal(func)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return _terminal(node.value)
    return None


def _is_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    name = _terminal(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return name is not None and name.isupper()


def _secret_named(node: ast.AST) -> bool:
    name = _terminal(node)
    return name is not None and not name.isupper() and SECRET_NAME.search(name) is not None


def secret_comparisons() -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for folder in SCANNED:
        for path in sorted((SRC / folder).rglob("*.py")):
            relative = path.relative_to(SRC).as_posix()
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Compare):
                    continue
                operands = [node.left, *node.comparators]
                for op, left, right in zip(node.ops, operands[:-1], operands[1:], strict=True):
                    if not isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
                        continue
                    if _is_constant(left) or _is_constant(right):
                        continue
                    if _secret_named(left) or _secret_named(right):
                        found.append((relative, node.lineno, ast.unparse(node)))
    return found


def test_no_secret_is_compared_with_equality() -> None:
    unexplained = [
        f"src/cognate/{path}:{line}: {text}"
        for path, line, text in secret_comparisons()
        if (path, text) not in ALLOWED
    ]
    assert not unexplained, (
        "compare secrets with hmac.compare_digest on bytes (or explain in ALLOWED why this "
        "is not a secret):\n" + "\n".join(unexplained)
    )


def test_the_scan_finds_what_it_is_meant_to() -> None:
    """The scan itself works: these comparisons of secrets would be reported."""
    samples = [
        "if given == secret_hash(secret, username, client_id): pass",
        "ok = row.code_hash != presented_hash",
        "ok = form['_csrf'] == cookie",
        "ok = token in valid_tokens",
        "ok = state.get('nonce') == claims_nonce",
    ]
    for sample in samples:
        compare = next(n for n in ast.walk(ast.parse(sample)) if isinstance(n, ast.Compare))
        operands = [compare.left, *compare.comparators]
        assert any(_secret_named(o) for o in operands), sample
    assert not _secret_named(ast.parse("SOFTWARE_TOKEN_MFA", mode="eval").body)


def test_every_allowed_comparison_still_exists() -> None:
    """An entry whose code is gone is removed, so the list stays an honest record."""
    present = {(path, text) for path, _line, text in secret_comparisons()}
    stale = [key for key in ALLOWED if key not in present]
    assert not stale, f"stale ALLOWED entries: {stale}"
