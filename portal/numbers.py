"""How a number is written: one rounding and one notation for pages, API, Excel, messages and PDF.

Never exponent notation (``Decimal("2E+3")`` is written 2000), never trailing zeros (2.2000 is
2.2), half-up rounding as the statistical yearbooks round, thousands separators for large numbers
(1,234,567), and the plan's 万 where the plan writes 万 (50万人次, 0.43万名).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDRED = Decimal(100)
TEN_THOUSAND = Decimal(10000)


def to_decimal(value):
    """``value`` as a Decimal (None stays None); floats go through their shortest text."""
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def rounded(value, places=2):
    """Half-up to ``places`` decimals (the one rounding of every shown value)."""
    number = to_decimal(value)
    if number is None:
        return None
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def plain(value):
    """A Decimal as a plain string for machines (API, CSV): 2E+3 → "2000", 2.2000 → "2.2"."""
    number = to_decimal(value)
    if number is None:
        return None
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def number_text(value, places=2, *, grouping=True):
    """A number for people: rounded to ``places``, no trailing zeros, thousands separated."""
    number = rounded(value, places)
    if number is None:
        return "—"
    text = plain(number)
    if grouping:
        whole, _dot, fraction = text.partition(".")
        sign = "-" if whole.startswith("-") else ""
        whole = f"{int(whole.lstrip('-')):,}"
        text = sign + whole + ("." + fraction if fraction else "")
    return text


def wan_text(value, places=4):
    """A number in 万 as the plan writes it: 500000 → 50万, 4300 → 0.43万, 12345 → 1.2345万."""
    number = to_decimal(value)
    if number is None:
        return "—"
    return number_text(number / TEN_THOUSAND, places, grouping=True) + "万"


def percent_text(share, places=1):
    """A share (0.7195) as a percentage with one rounding: 72%… 71.95 → "72%" at places=0."""
    number = to_decimal(share)
    if number is None:
        return "—"
    return number_text(number * HUNDRED, places, grouping=False) + "%"
