"""Literal values as SHACL Core reads them: which lexical forms are well-formed for a datatype (an ill-formed
literal fails ``sh:datatype``), how two literals order (``sh:minInclusive``, ``sh:lessThan``, ...: as SPARQL's
``<`` does, so two values that SPARQL cannot compare fail the constraint), and language ranges.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from idais_kg.namespaces import RDF, XSD
from idais_kg.validation.shacl.data import Term

_INTEGERS = {  # the integer types, with their bounds (None: unbounded)
    "integer": (None, None),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
INTEGERS = {XSD + name: bounds for name, bounds in _INTEGERS.items()}
NUMERIC = {*INTEGERS, XSD + "decimal", XSD + "double", XSD + "float"}
_TZ = r"(Z|[+-]\d\d:\d\d)?"
_DATE = r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
_FLOAT = r"([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)"
LEXICAL = {
    XSD + "decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    XSD + "double": re.compile(_FLOAT),
    XSD + "float": re.compile(_FLOAT),
    XSD + "boolean": re.compile(r"true|false|1|0"),
    XSD + "gYear": re.compile(r"-?\d{4,}" + _TZ),
    XSD + "gYearMonth": re.compile(r"-?\d{4,}-(0[1-9]|1[0-2])" + _TZ),
    XSD + "date": re.compile(_DATE + _TZ),
    XSD + "dateTime": re.compile(_DATE + "T" + _TIME + _TZ),
    XSD + "time": re.compile(_TIME + _TZ),
}
_INTEGER = re.compile(r"[+-]?\d+")
LANG_STRING = RDF + "langString"


def well_formed(literal: ox.Literal) -> bool:
    """Whether the literal's lexical form is in the lexical space of its datatype (unknown datatypes: any form).

    >>> well_formed(ox.Literal("300", datatype=ox.NamedNode(XSD + "byte")))
    False
    """
    datatype = literal.datatype.value
    if datatype in INTEGERS:
        if not _INTEGER.fullmatch(literal.value):
            return False
        low, high = INTEGERS[datatype]
        n = int(literal.value)
        return (low is None or n >= low) and (high is None or n <= high)
    pattern = LEXICAL.get(datatype)
    if pattern is None or not pattern.fullmatch(literal.value):
        return pattern is None
    if datatype in (XSD + "date", XSD + "dateTime"):
        return _moment(literal) is not None
    return True


def _number(term: ox.Literal) -> Decimal | float | None:
    try:
        if term.datatype.value in (XSD + "double", XSD + "float"):
            value = float(term.value)
            return None if value != value else value  # NaN compares with nothing
        return Decimal(term.value)
    except (InvalidOperation, ValueError):
        return None


def _moment(term: ox.Literal) -> tuple[datetime, bool] | None:
    """A date or dateTime as a datetime, and whether it has a timezone (None if ill-formed)."""
    text, zone = term.value, None
    match = re.search(r"(Z|[+-]\d\d:\d\d)$", text)
    if match and (term.datatype.value == XSD + "dateTime" or text.count("-") > 2 or text.endswith("Z")):
        text, tz = text[: match.start()], match[1]
        zone = UTC
        if tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            zone = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    try:
        if term.datatype.value == XSD + "date":
            d = date.fromisoformat(text)
            moment = datetime(d.year, d.month, d.day)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment.replace(tzinfo=zone) if zone else moment), zone is not None


def compare(a: Term, b: Term) -> int | None:
    """-1, 0 or 1 as ``a`` is less than, equal to or greater than ``b``; None if SPARQL cannot compare them."""
    if not isinstance(a, ox.Literal) or not isinstance(b, ox.Literal):
        return None
    da, db = a.datatype.value, b.datatype.value
    if da in NUMERIC and db in NUMERIC:
        x, y = _number(a), _number(b)
        if x is None or y is None or not (well_formed(a) and well_formed(b)):
            return None
        return (x > y) - (x < y)
    if da != db or a.language != b.language:
        return None
    if da in (XSD + "date", XSD + "dateTime"):
        x_moment, y_moment = _moment(a), _moment(b)
        if x_moment is None or y_moment is None or x_moment[1] != y_moment[1]:
            return None  # with and without a timezone: indeterminate
        return (x_moment[0] > y_moment[0]) - (x_moment[0] < y_moment[0])
    if da in (XSD + "string", LANG_STRING) or (da in LEXICAL and well_formed(a) and well_formed(b)):
        return (a.value > b.value) - (a.value < b.value)
    return None


def lang_matches(tag: str, pattern: str) -> bool:
    """SPARQL's langMatches: basic filtering of RFC 4647.

    >>> lang_matches("en-GB", "en"), lang_matches("", "*")
    (True, False)
    """
    tag, pattern = tag.lower(), pattern.lower()
    return (pattern == "*" and bool(tag)) or tag == pattern or tag.startswith(pattern + "-")
