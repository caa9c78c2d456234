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


SAMPLES = [
    "",
    "abc",
    "us-east-1_AbC123",
    "a b",
    "a\tb",
    "a\rb",
    "a\nb",
    "a\u0085b",
    "a\u2028b",
    "café",
    "a\u00a0b",
    "x" * 300,
    "{####}",
    "Given {username} and {####}.",
    "user@example.com",
    "+15555551212",
    "https://example.com/cb?x=1",
    "a=b+c/d",
    "€ 12",
    "tab\there",
    "☃",
]


def test_patterns_compiled_with_re_match_what_regex_matches() -> None:
    """Patterns without property classes are compiled with `re` for speed: for every model
    pattern and a spread of values, `re` and `regex` must agree."""
    import re

    import regex

    model = botocore.session.get_session().get_service_model("cognito-idp")
    patterns = {
        shape.metadata["pattern"]
        for name in model.shape_names
        if "pattern" in (shape := model.shape_for(name)).metadata
    }
    used_re = 0
    for pattern in patterns:
        compiled = compile_java_pattern(pattern)
        reference = regex.compile(translate(pattern), flags=regex.VERSION0)
        if isinstance(compiled, re.Pattern):
            used_re += 1
        for value in SAMPLES:
            assert bool(compiled.fullmatch(value)) == bool(reference.fullmatch(value)), (
                pattern,
                value,
            )
    assert used_re > 20  # the common patterns do take the fast path
