"""Translate the service model's Java regular expressions into `regex` patterns.

The model's `pattern` traits are Java (Coral) regexes matched against the whole value.
Python's engines differ from Java in ways that change which values pass:

* Java's `\\w`, `\\s`, `\\d` (and their negations) are ASCII-only; Python's are Unicode.
* Java's `.` stops at every line terminator (`\\n`, `\\r`, U+0085, U+2028, U+2029);
  Python's stops only at `\\n`.
* `\\p{L}`-style classes are not understood by `re` at all.

`compile_java_pattern` rewrites those constructs into explicit ASCII classes and
compiles the result with the `regex` package, whose `\\p{..}` classes match Java's.
Translated patterns without property classes mean the same in the standard `re` module,
which matches them an order of magnitude faster (a 1 KB access token: 1 µs instead of
11); those are compiled with `re`. It owns nothing else; matching is the validator's
business.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import regex

_WORD = "a-zA-Z0-9_"
_SPACE = " \\t\\n\\x0B\\f\\r"
_DIGIT = "0-9"
_LINE_TERMINATORS = "\\n\\r\\u0085\\u2028\\u2029"

# What each escape becomes inside a character class and outside of one.
_IN_CLASS = {"w": _WORD, "s": _SPACE, "d": _DIGIT}
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "s": f"[{_SPACE}]",
    "d": f"[{_DIGIT}]",
    "W": f"[^{_WORD}]",
    "S": f"[^{_SPACE}]",
    "D": f"[^{_DIGIT}]",
}
_NEGATED = {"W": _WORD, "S": _SPACE, "D": _DIGIT}


class UnsupportedPattern(ValueError):
    """A Java construct this translator does not know how to rewrite faithfully."""


def translate(java: str) -> str:
    """Return a `regex`-module pattern equivalent to the Java pattern `java`."""
    dotall = java.startswith("(?s)")
    out: list[str] = []
    i = 0
    n = len(java)
    while i < n:
        ch = java[i]
        if ch == "\\" and i + 1 < n:
            esc = java[i + 1]
            if esc in _OUTSIDE:
                out.append(_OUTSIDE[esc])
            else:
                out.append(java[i : i + 2])
            i += 2
        elif ch == "[":
            end, body = _read_class(java, i)
            out.append(body)
            i = end
        elif ch == "." and not dotall:
            out.append(f"[^{_LINE_TERMINATORS}]")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _read_class(java: str, start: int) -> tuple[int, str]:
    """Translate the character class opening at `start`; return (index after it, text)."""
    i = start + 1
    parts = ["["]
    class_negated = i < len(java) and java[i] == "^"
    if class_negated:
        parts.append("^")
        i += 1
    # A `]` right after the opening bracket is a literal in both dialects.
    if i < len(java) and java[i] == "]":
        parts.append("\\]")
        i += 1
    negated_escape: str | None = None
    members = 0
    while i < len(java):
        ch = java[i]
        if ch == "]":
            body = "".join(parts) + "]"
            if negated_escape is not None:
                if members != 1 or class_negated:
                    raise UnsupportedPattern(java)
                body = f"[^{_NEGATED[negated_escape]}]"
            return i + 1, body
        if ch == "[":
            raise UnsupportedPattern(java)  # nested classes / set operations
        if ch == "\\" and i + 1 < len(java):
            esc = java[i + 1]
            if esc in _IN_CLASS:
                parts.append(_IN_CLASS[esc])
            elif esc in _NEGATED:
                negated_escape = esc
            else:
                parts.append(java[i : i + 2])
            i += 2
            members += 1
            continue
        parts.append(ch)
        members += 1
        i += 1
    raise UnsupportedPattern(java)


_NEEDS_REGEX = re.compile(r"\\[pPX]")


@functools.cache
def compile_java_pattern(java: str) -> Any:
    """Compile a model pattern once; match with `.fullmatch` (AWS matches whole values).

    Returns a `re` or `regex` pattern object (both have `fullmatch`)."""
    translated = translate(java)
    if not _NEEDS_REGEX.search(translated):
        try:
            return re.compile(translated)
        except re.error:
            pass
    return regex.compile(translated, flags=regex.VERSION0)
