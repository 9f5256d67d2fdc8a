"""Server-side SVG charts for the dashboard and the milestone PDFs: no JavaScript.

Each builder returns a safe string (Django's ``SafeString``, which marks itself with
``__html__`` like ``markupsafe.Markup``), so templates insert it as it is. Every piece of text
that goes into the SVG passes through ``escape`` first: unit and measure names come from users.

Every chart is an accessible image: ``role="img"``, a ``<title>`` and a ``<desc>`` that say in
words what the chart shows, and a font list that has CJK glyphs both in browsers and in
WeasyPrint. Geometry is computed in floats; values may be ``Decimal``, ``int``, ``float`` or None
(no data for that point).
"""

import hashlib
import math
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from portal.numbers import number_text
from portal.text import clauses, labelled
from targets.choices import unit_label

FONT = "&quot;Noto Sans CJK SC&quot;, &quot;Noto Sans SC&quot;, sans-serif"

INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9e2ec"
ACTUAL = "#0b5394"
EXPECTED = "#b7791f"
TARGET = "#c53030"
BASELINE = "#616e7c"
BAR = "#2b6cb0"

# Status colours, shared by the chips (dashboard.css) and the PDF reports.
STATUS_COLORS = {
    "achieved": "#276749",
    "ahead": "#2b6cb0",
    "on_track": "#38a169",
    "behind": "#d69e2e",
    "far_behind": "#c53030",
    "no_data": "#a0aec0",
    "no_baseline": "#805ad5",
}
MEASURE_STATUS_COLORS = {
    "not_started": "#cbd2d9",
    "in_progress": "#63b3ed",
    "done": "#276749",
    "ongoing": "#38a169",
}


def fmt(value, places=2):
    """A number as people write it (``portal.numbers.number_text``: one rounding, no exponent)."""
    return number_text(value, places)


def with_unit(value, unit, places=2):
    """``68%`` for percentages, ``150000 人次`` for the rest."""
    if value is None:
        return "—"
    if not unit:
        return fmt(value, places)
    unit = unit_label(unit)
    # Chinese units follow the number directly (50万人次, 10%); English words need a space.
    gap = " " if unit[:1].isascii() and unit != "%" else ""
    return f"{fmt(value, places)}{gap}{unit}"


def _f(value):
    return None if value is None else float(value)


def _n(x):
    """A coordinate in the SVG: one decimal is enough and keeps the markup short."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _uid(*parts):
    """A stable id for title/desc references: the same chart renders to the same markup."""
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()[:10]
    return f"c{digest}"


def _open(width, height, title, desc, uid, css_class):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" font-family="{FONT}" font-size="12" fill="{INK}">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
    )


def _text(x, y, text, *, anchor="start", size=None, fill=None, extra=""):
    attrs = f'x="{_n(x)}" y="{_n(y)}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if size:
        attrs += f' font-size="{size}"'
    if fill:
        attrs += f' fill="{fill}"'
    if extra:
        attrs += " " + extra
    return f"<text {attrs}>{escape(text)}</text>"


def _empty(width, height, title, desc, css_class):
    uid = _uid("empty", title, desc, width, height)
    return mark_safe(
        _open(width, height, title, desc or _("暂无数据"), uid, css_class)
        + f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#f7fafc" stroke="{GRID}"/>'
        + _text(width / 2, height / 2 + 4, _("暂无数据"), anchor="middle", fill=MUTED)
        + "</svg>"
    )


def nice_ticks(low, high, count=5):
    """Round tick values covering [low, high]: 0, 100000, 200000 … rather than 0, 93750 …"""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    # the finest round step that needs at most count + 1 intervals
    step = next(
        m * magnitude for m in (1, 2, 2.5, 5, 10) if math.ceil((high - low) / (m * magnitude)) <= count + 1
    )
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _tick_label(value):
    if abs(value) >= 1 and float(value).is_integer():
        return str(int(value))
    return fmt(Decimal(str(round(value, 6))), 4)


def _segments(points):
    """Split a list of (x, y|None) into runs without gaps, for polylines."""
    runs, run = [], []
    for x, y in points:
        if y is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append((x, y))
    if run:
        runs.append(run)
    return runs


def _polyline(run, color, *, dash=None, width=2, css=None):
    coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    if css:
        extra += f' class="{css}"'
    return (
        f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{width}"'
        f' stroke-linejoin="round"{extra}/>'
    )


def line_chart(
    series,
    expected,
    target_value,
    labels,
    unit,
    title,
    desc,
    *,
    baseline=None,
    width=680,
    height=320,
    css_class="chart chart-line",
):
    """Actual values per period (solid, with dots), the expected line (dashed), the target
    value and the baseline as horizontal lines; y axis in ``unit``, x axis the periods.

    ``series`` and ``expected`` are lists aligned with ``labels``; either may hold None.
    """
    labels = [str(label) for label in labels]
    actual = [_f(v) for v in (series or [])]
    wanted = [_f(v) for v in (expected or [])]
    has_actual = any(v is not None for v in actual)
    has_expected = any(v is not None for v in wanted)
    if not labels or not (has_actual or has_expected):
        return _empty(width, 120, title, desc, css_class)

    left, right, top, bottom = 64, 16, 42, 62
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for v in actual + wanted if v is not None]
    for extra in (target_value, baseline):
        if extra is not None:
            values.append(float(extra))
    low = min([0.0, *values])
    high = max(values) or 1.0
    ticks = nice_ticks(low, high * 1.05)
    y_min, y_max = ticks[0], ticks[-1]

    def y_of(value):
        return top + plot_h - (value - y_min) / (y_max - y_min) * plot_h

    count = len(labels)
    step = plot_w / max(count - 1, 1)

    def x_of(index):
        return left + (index * step if count > 1 else plot_w / 2)

    uid = _uid("line", title, labels, actual, wanted, _f(target_value), _f(baseline))
    out = [_open(width, height, title, desc, uid, css_class)]
    # grid and y axis
    for tick in ticks:
        y = y_of(tick)
        out.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}" stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(_text(left - 6, y + 4, _tick_label(tick), anchor="end", size=11, fill=MUTED))
    if unit:
        out.append(_text(4, 30, _("单位：%(unit)s") % {"unit": unit_label(unit)}, size=11, fill=MUTED))
    out.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{MUTED}" stroke-width="1"/>'
    )
    out.append(
        f'<line x1="{left}" y1="{_n(top + plot_h)}" x2="{width - right}" y2="{_n(top + plot_h)}"'
        f' stroke="{MUTED}" stroke-width="1"/>'
    )
    # x labels: every one when they fit, otherwise every other one, rotated
    every = 1 if step >= 44 else 2 if step >= 22 else math.ceil(44 / step)
    for index, label in enumerate(labels):
        if (count - 1 - index) % every:  # counted from the end: the latest period is always labelled
            continue
        x, y = x_of(index), top + plot_h + 14
        out.append(
            _text(
                x,
                y,
                label,
                anchor="end",
                size=10,
                fill=MUTED,
                extra=f'transform="rotate(-35 {_n(x)} {_n(y)})"',
            )
        )
    out.append(_text(left + plot_w / 2, height - 4, _("报送期"), anchor="middle", size=11, fill=MUTED))
    # reference lines
    if baseline is not None:
        y = y_of(float(baseline))
        out.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}" stroke="{BASELINE}"'
            f' stroke-width="1" stroke-dasharray="2 3"/>'
        )
        out.append(
            _text(
                width - right - 2,
                y + 13,
                _("基期值 %(v)s") % {"v": fmt(baseline)},
                anchor="end",
                size=10,
                fill=BASELINE,
            )
        )
    if target_value is not None:
        y = y_of(float(target_value))
        out.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}" stroke="{TARGET}"'
            f' stroke-width="1.5" class="target-line"/>'
        )
        out.append(_text(left + 4, y - 4, _("目标值 %(v)s") % {"v": fmt(target_value)}, size=10, fill=TARGET))
    # expected (dashed), then actual on top
    expected_points = [(x_of(i), None if v is None else y_of(v)) for i, v in enumerate(wanted)]
    for run in _segments(expected_points):
        out.append(_polyline(run, EXPECTED, dash="6 4", css="expected"))
    actual_points = [(x_of(i), None if v is None else y_of(v)) for i, v in enumerate(actual)]
    for run in _segments(actual_points):
        out.append(_polyline(run, ACTUAL, width=2.5, css="actual"))
    for (x, y), label, value in zip(actual_points, labels, actual, strict=False):
        if y is not None:
            out.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{ACTUAL}"><title>'
                f"{escape(labelled(label, fmt(value)))}</title></circle>"
            )
    if not has_actual:
        out.append(_text(left + plot_w / 2, top + plot_h / 2, _("暂无数据"), anchor="middle", fill=MUTED))
    # legend
    x = left
    legend = [(ACTUAL, _("实际完成值"), False)]
    if has_expected:
        legend.append((EXPECTED, _("序时进度目标值"), True))
    if target_value is not None:
        legend.append((TARGET, _("目标值"), False))
    for color, text, dashed in legend:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(
            f'<line x1="{x}" y1="10" x2="{x + 22}" y2="10" stroke="{color}" stroke-width="2.5"{dash}/>'
        )
        out.append(_text(x + 26, 14, text, size=11))
        x += 26 + 12 * len(text) + 18
    out.append("</svg>")
    return mark_safe("".join(out))


def sparkline(values, expected=None, *, width=120, height=30, title=None, css_class="chart spark"):
    """A small trend line of ``values`` with the expected line dashed; no axes."""
    actual = [_f(v) for v in (values or [])]
    wanted = [_f(v) for v in (expected or [])]
    points = [v for v in actual + wanted if v is not None]
    title = title or _("趋势")
    if not any(v is not None for v in actual):
        return _empty(width, height, title, _("暂无数据"), css_class)
    count = max(len(actual), len(wanted))
    low, high = min([0.0, *points]), max(points)
    span = (high - low) or 1.0
    pad = 3

    def x_of(index):
        return pad + (index * (width - 2 * pad) / (count - 1) if count > 1 else (width - 2 * pad) / 2)

    def y_of(value):
        return height - pad - (value - low) / span * (height - 2 * pad)

    last = next(v for v in reversed(actual) if v is not None)
    desc = _("最新实际完成值 %(v)s") % {"v": fmt(last)}
    latest_expected = next((v for v in reversed(wanted) if v is not None), None)
    if latest_expected is not None:
        desc += _("，序时进度目标值 %(v)s") % {"v": fmt(latest_expected)}
    uid = _uid("spark", title, actual, wanted)
    out = [_open(width, height, title, desc, uid, css_class)]
    for run in _segments([(x_of(i), None if v is None else y_of(v)) for i, v in enumerate(wanted)]):
        out.append(_polyline(run, EXPECTED, dash="3 2", width=1.2, css="expected"))
    actual_points = [(x_of(i), None if v is None else y_of(v)) for i, v in enumerate(actual)]
    for run in _segments(actual_points):
        out.append(_polyline(run, ACTUAL, width=1.8, css="actual"))
    x, y = next(p for p in reversed(actual_points) if p[1] is not None)
    out.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.2" fill="{ACTUAL}"/>')
    out.append("</svg>")
    return mark_safe("".join(out))


def hbar_chart(
    rows,
    unit,
    title,
    *,
    desc=None,
    reference=None,
    reference_label=None,
    width=640,
    css_class="chart chart-hbar",
):
    """Horizontal bars, one per (label, value) row, with the value written at the bar's end and
    an optional reference line (e.g. the 1.5 元/人 floor)."""
    rows = [(str(label), _f(value)) for label, value in rows]
    if not rows or all(value is None for _label, value in rows):
        return _empty(width, 80, title, desc, css_class)
    bar_h, gap, top = 20, 8, 8
    longest = max(len(label) for label, _v in rows)
    left = min(max(60, 13 * longest + 12), width // 2)
    right = 110
    plot_w = width - left - right
    height = top + len(rows) * (bar_h + gap) + 24
    values = [v for _l, v in rows if v is not None]
    high = max([*values, _f(reference) or 0.0]) or 1.0
    if desc is None:
        desc = "；".join(f"{label} {with_unit(value, unit)}" for label, value in rows)
    uid = _uid("hbar", title, rows, _f(reference))
    out = [_open(width, height, title, desc, uid, css_class)]
    for index, (label, value) in enumerate(rows):
        y = top + index * (bar_h + gap)
        shown = label if len(label) <= (left - 12) // 13 else label[: (left - 12) // 13 - 1] + "…"
        out.append(_text(left - 6, y + bar_h - 5, shown, anchor="end", extra=""))
        if value is None:
            out.append(_text(left + 4, y + bar_h - 5, _("暂无数据"), fill=MUTED, size=11))
            continue
        bar = max(value / high * plot_w, 0)
        out.append(
            f'<rect x="{left}" y="{_n(y)}" width="{_n(bar)}" height="{bar_h}" fill="{BAR}" rx="2">'
            f"<title>{escape(labelled(label, with_unit(value, unit)))}</title></rect>"
        )
        out.append(_text(left + bar + 5, y + bar_h - 5, with_unit(value, unit), size=11))
    if reference is not None:
        x = left + float(reference) / high * plot_w
        bottom = top + len(rows) * (bar_h + gap)
        out.append(
            f'<line x1="{_n(x)}" y1="{top - 4}" x2="{_n(x)}" y2="{_n(bottom)}" stroke="{TARGET}"'
            f' stroke-width="1.5" stroke-dasharray="5 3" class="reference"/>'
        )
        label = reference_label or _("目标值 %(v)s") % {"v": with_unit(reference, unit)}
        out.append(_text(x, bottom + 14, label, anchor="middle", size=11, fill=TARGET))
    out.append("</svg>")
    return mark_safe("".join(out))


def stacked_bar(counts, colors, *, width=180, height=14, title=None, css_class="chart stacked"):
    """One bar split by counts: ``counts`` is a list of (label, n) pairs (or a dict),
    ``colors`` a list aligned with it (or a dict keyed by label)."""
    pairs = list(counts.items()) if isinstance(counts, dict) else list(counts)
    if isinstance(colors, dict):
        palette = [colors.get(label, MUTED) for label, _n_ in pairs]
    else:
        palette = list(colors) + [MUTED] * max(0, len(pairs) - len(colors))
    total = sum(int(n or 0) for _label, n in pairs)
    summary = clauses(f"{label} {int(n or 0)}" for label, n in pairs if n)
    title = title or _("措施推进情况")
    if total <= 0:
        return _empty(width, max(height, 16), title, _("暂无数据"), css_class)
    uid = _uid("stack", title, pairs, palette)
    out = [_open(width, height, title, summary, uid, css_class)]
    x = 0.0
    for (label, n), color in zip(pairs, palette, strict=False):
        if not n:
            continue
        w = int(n) / total * width
        out.append(
            f'<rect x="{_n(x)}" y="0" width="{_n(w)}" height="{height}" fill="{escape(color)}">'
            f"<title>{escape(label)} {int(n)}</title></rect>"
        )
        x += w
    out.append("</svg>")
    return mark_safe("".join(out))
