"""The SVG chart builders: valid XML, accessible, escaped, and honest about missing data."""

import xml.etree.ElementTree as ET
from decimal import Decimal as D

import pytest

from reports.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"


def parse(svg):
    return ET.fromstring(str(svg))


def texts(root):
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


def t09_chart(**kw):
    args = dict(
        series=[None, D(40000), D(100000), D(150000)],
        expected=[D(0), D(100000), D(200000), D(300000)],
        target_value=D(500000),
        labels=["21年基期", "22年Q1", "22年Q4", "23年Q4"],
        unit="人次",
        title="T09 补贴性职业技能培训",
        desc="截至2023年第4季度，实际完成值 150000 人次。",
    )
    args.update(kw)
    return charts.line_chart(**args)


def every_chart():
    return [
        t09_chart(),
        charts.sparkline([1, 2, 3], [1, 1.5, 2]),
        charts.hbar_chart([("省科协", 4), ("省科技厅", 2)], "个", "T04 各单位贡献", reference=3),
        charts.stacked_bar([("未启动", 1), ("推进中", 3)], ["#ccc", "#6cf"]),
    ]


@pytest.mark.parametrize("index", range(4))
def test_every_chart_is_valid_xml_and_an_accessible_image(index):
    svg = every_chart()[index]
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    title_id = root.find(f"{SVG}title").get("id")
    assert title_id in root.get("aria-labelledby")
    assert '"Noto Sans CJK SC", "Noto Sans SC", sans-serif' == root.get("font-family")
    assert "<script" not in str(svg) and "javascript" not in str(svg).lower()


def test_charts_are_safe_to_insert_in_a_template():
    assert hasattr(t09_chart(), "__html__")


def test_line_chart_draws_the_expected_line_dashed_and_the_target_as_a_line():
    root = parse(t09_chart())
    expected = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "expected"]
    assert len(expected) == 1 and expected[0].get("stroke-dasharray")
    assert len(expected[0].get("points").split()) == 4
    assert [ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "target-line"]
    labels = texts(root)
    assert "目标值 500,000" in labels
    assert "单位：人次" in labels
    assert "报送期" in labels
    assert {"实际完成值", "序时进度目标值"} <= set(labels)


def test_line_chart_plots_only_the_periods_that_have_an_actual_value():
    root = parse(t09_chart())
    actual = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "actual"]
    assert len(actual) == 1 and len(actual[0].get("points").split()) == 3
    assert len(list(root.iter(f"{SVG}circle"))) == 3


def test_a_gap_in_the_series_breaks_the_line():
    root = parse(t09_chart(series=[D(1), None, D(3), D(4)]))
    runs = [p.get("points").split() for p in root.iter(f"{SVG}polyline") if p.get("class") == "actual"]
    assert [len(r) for r in runs] == [1, 2]


def test_the_baseline_appears_when_given():
    root = parse(t09_chart(baseline=D("45.3")))
    assert "基期值 45.3" in texts(root)


def test_hostile_labels_titles_and_units_are_escaped():
    line = t09_chart(labels=[HOSTILE] * 4, unit=HOSTILE, title=HOSTILE, desc=HOSTILE)
    bars = charts.hbar_chart([(HOSTILE, 5), ("省科协", 3)], HOSTILE, HOSTILE)
    stack = charts.stacked_bar([(HOSTILE, 2)], {HOSTILE: '"><script>'}, title=HOSTILE)
    spark = charts.sparkline([1, 2], title=HOSTILE)
    for svg in (line, bars, stack, spark):
        assert HOSTILE not in str(svg)
        assert "&lt;script&gt;" in str(svg)
        root = parse(svg)  # still well-formed
        assert root.find(f"{SVG}title").text == HOSTILE
    assert '"><script>' not in str(stack)


def test_empty_data_says_so():
    for svg in (
        charts.line_chart([], [], None, [], "人次", "T09", "无"),
        charts.line_chart([None, None], [None, None], D(5), ["a", "b"], "个", "T02", "无"),
        charts.sparkline([None, None], [1, 2]),
        charts.hbar_chart([], "个", "贡献"),
        charts.stacked_bar({"未启动": 0, "推进中": 0}, ["#ccc", "#6cf"]),
    ):
        root = parse(svg)
        assert "暂无数据" in texts(root)


def test_an_expected_line_without_actual_values_is_drawn_with_a_no_data_note():
    root = parse(t09_chart(series=[None, None, None, None]))
    assert [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "expected"]
    assert "暂无数据" in texts(root)


def test_hbar_chart_writes_each_value_with_its_unit_and_the_reference_line():
    root = parse(
        charts.hbar_chart([("2023年", D("1.33")), ("2024年", D("2.02"))], "元/人", "人均", reference=1.5)
    )
    labels = texts(root)
    assert {"2023年", "2024年", "1.33元/人", "2.02元/人", "目标值 1.5元/人"} <= set(labels)
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] < widths[1]


def test_stacked_bar_splits_the_width_by_the_counts():
    root = parse(
        charts.stacked_bar([("未启动", 1), ("推进中", 3), ("已完成", 0)], ["#ccc", "#6cf", "#060"], width=200)
    )
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths == [50, 150]
    assert root.find(f"{SVG}desc").text == "未启动 1，推进中 3"


def test_numbers_are_written_as_people_write_them():
    assert charts.fmt(D("2.2000")) == "2.2"
    assert charts.fmt(D("150000.0000")) == "150,000"  # not 1.5E+5
    assert charts.fmt(D("0.33333")) == "0.33"
    assert charts.fmt(None) == "—"
    assert charts.with_unit(D("68.0000"), "%") == "68%"
    assert charts.with_unit(D(40000), "人次") == "40,000人次"


def test_axis_ticks_are_round_numbers():
    assert charts.nice_ticks(0, 525000) == [0, 100000, 200000, 300000, 400000, 500000, 600000]
    assert charts.nice_ticks(0, 2.3) == [0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_the_same_chart_renders_to_the_same_markup():
    assert str(t09_chart()) == str(t09_chart())
