"""The PDF baseline: WeasyPrint rendering a plain table document of a given page count.

    python benchmarks/pdf_baseline.py PAGES

A4 with the report's margins, the same fonts (Noto Serif / Sans CJK SC), "第 X 页 共 Y 页" in the
footer, and one long table of Chinese text whose header row repeats on every page. The number of
rows is found from a small probe document and adjusted until the document has PAGES pages; that
render (fonts already loaded by the probe) is the baseline. Prints ``RESULT {json}``.
"""

import json
import random
import resource
import sys
import time

PHRASES = [
    "公民具备科学素质的比例",
    "青少年科技创新大赛参赛学生",
    "高素质农牧民培训",
    "科普教育基地开放日活动",
    "流动科技馆巡展接待观众",
    "县区年科普经费不低于二十五万元",
    "基层科普骨干培训班",
    "医养结合机构覆盖率",
    "应急科普宣教活动覆盖群众",
    "科学教师培训不低于四百名",
]
UNITS = ["省教育厅", "省科协", "省科技厅", "省农业农村厅", "省卫生健康委", "西宁市人民政府", "海东市人民政府"]
STATUS = ["提前实现", "快于预期", "符合预期", "滞后于预期"]

STYLE = """
@page { size: A4; margin: 24mm 20mm 22mm 22mm;
  @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页";
    font-family: "Noto Sans CJK SC", sans-serif; font-size: 9pt; } }
html { font-family: "Noto Serif CJK SC", serif; font-size: 10.5pt; line-height: 1.65; }
h1 { font-family: "Noto Sans CJK SC", sans-serif; font-size: 16pt; }
table { width: 100%; border-collapse: collapse; font-family: "Noto Sans CJK SC", sans-serif; font-size: 9pt; }
thead { display: table-header-group; }
th, td { border: 0.5pt solid #9aa5b1; padding: 1.2mm 1.5mm; vertical-align: top; }
th { background: #e4e7eb; }
tr { break-inside: avoid; }
"""


HEADER = "<thead><tr><th>编号</th><th>指标</th><th>基线值</th><th>目标值</th><th>完成率</th><th>状态</th></tr></thead>"


def document(rows: int) -> str:
    rng = random.Random(2021)
    body = []
    for i in range(rows):
        name = rng.choice(PHRASES)
        body.append(
            f"<tr><td>T{i + 1:03d}</td><td>{name}（{rng.choice(UNITS)}）</td>"
            f"<td>{rng.randint(10, 9000)}</td><td>{rng.randint(10, 9000)}</td>"
            f"<td>{rng.randint(1, 120)}%</td><td>{rng.choice(STATUS)}</td></tr>"
        )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>'
        + STYLE
        + "</style></head><body><h1>主要目标指标完成情况（基准文档）</h1><table>"
        + HEADER
        + "<tbody>"
        + "".join(body)
        + "</tbody></table></body></html>"
    )


def render(rows: int):
    """(wall seconds, CPU seconds, pages, bytes) of rendering ``rows`` rows to PDF."""
    from weasyprint import HTML

    started, cpu = time.perf_counter(), time.process_time()
    doc = HTML(string=document(rows)).render()
    data = doc.write_pdf()
    return time.perf_counter() - started, time.process_time() - cpu, len(doc.pages), len(data)


def main(pages: int) -> None:
    probe = 150
    cold_seconds, _cpu, got, _size = render(probe)  # also loads the fonts (cold)
    per_page = probe / max(got - 0.4, 0.6)
    rows = max(1, int(per_page * (pages - 0.5)))
    for _attempt in range(6):
        seconds, cpu_seconds, got, size = render(rows)
        if got == pages:
            break
        rows = max(1, int(rows + (pages - got) * per_page))
    print(
        "RESULT "
        + json.dumps(
            {
                "pages": got,
                "rows": rows,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "probe_seconds": cold_seconds,
                "bytes": size,
                "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
