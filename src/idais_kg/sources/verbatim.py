"""How verbatim text relates to the lines of the source file (the rule the data is checked by)."""

from __future__ import annotations

import re

FOOTNOTE_LINE = re.compile(r"^[⁰¹²³⁴⁵⁶⁷⁸⁹]+\s")
LINK = re.compile(r"\[([^\]]*)\]\(#\)")


def normalise(line: str) -> str:
    """Remove the two conversion artefacts the data leaves out: ``**`` emphasis and ``[text](#)`` links.

    >>> normalise("- **开发。**第三方 [人工智能研发](#)")
    '- 开发。第三方 人工智能研发'
    """
    return LINK.sub(r"\1", line.replace("**", ""))


def location_text(lines: list[str], start: int, end: int) -> str:
    """The text of lines ``start``..``end`` (1-based, inclusive) as a verbatim value is matched against.

    Footnote blocks and blank lines inside the range are left out and the rest joined without separator (a
    paragraph split by a footnote block continues on the next text line); the raw lines, newline-joined, are
    appended so that multi-line text (lists) matches too.
    """
    window = [normalise(line) for line in lines[start - 1 : end]]
    body = "".join(line.strip() for line in window if line.strip() and not FOOTNOTE_LINE.match(line))
    return body + "\n" + "\n".join(window)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a verbatim value (one per line), as each must occur in the source."""
    return [p for p in text.split("\n") if p]
