"""Java (Coral) pattern semantics, translated for the `regex` engine."""

from __future__ import annotations

import botocore.session
import pytest

from cognate.wire.javaregex import compile_java_pattern, translate

MODEL = botocore.session.get_session().get_service_model("cognito-idp")


def test_every_model_pattern_compiles() -> None:
    patterns = {MODEL.shape_for(n).metadata.get("pattern") for n in MODEL.shape_names} - {None}
    assert len(patterns) > 40
    for pattern in patterns:
        compile_java_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (r"[\w\s+=,.@-]+", "my pool", True),
        (r"[\w\s+=,.@-]+", "café", False),  # Java's \w is ASCII
        (r"[\w\s+=,.@-]+", "a\u2003b", False),  # Java's \s is ASCII
        (r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+", "café€", True),
        (r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+", "two words", False),
        (r"[\S]+", "a\u00a0b", True),  # NBSP is not Java whitespace
        (r"[\S]+", "a b", False),
        (r".*\{####\}.*", "code {####}", True),
        (r".*\{####\}.*", "code\r{####}", False),  # Java's . stops at \r
        (r"(?s).*", "multi\nline", True),
        (r"[A-Za-z0-9-_+/=.]+", "a-b_c+d/e=f.g", True),
        (r"[\w-]+_[0-9a-zA-Z]+", "us-east-1_AbC123", True),
        (r"[\w-]+_[0-9a-zA-Z]+", "us-east-1", False),
    ],
)
def test_java_semantics(pattern: str, value: str, matches: bool) -> None:
    assert bool(compile_java_pattern(pattern).fullmatch(value)) is matches


def test_translation_is_explicit_about_ascii_classes() -> None:
    assert translate(r"[\w]+") == "[a-zA-Z0-9_]+"
    assert translate(r"[\S]+") == "[^ \\t\\n\\x0B\\f\\r]+"
