"""Rewrite README.md's generated operation table (between the operations markers).

python tools/update_readme.py
"""

from __future__ import annotations

import re
from pathlib import Path

from cognate.operation_table import markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def main() -> None:
    text = README.read_text()
    pattern = re.compile(r"(<!-- operations:start[^\n]*-->\n).*?(<!-- operations:end -->)", re.S)
    updated, count = pattern.subn(lambda m: m.group(1) + markdown() + m.group(2), text)
    if count != 1:
        raise SystemExit("README.md has no operations markers")
    README.write_text(updated)


if __name__ == "__main__":
    main()
