"""Building blocks of a self-contained HTML page: inline CSS, escaped cells, tables, embedded images.

Nothing here refers outside the page: styles are inline, fonts are the reader's system fonts
and images are ``data:`` URIs, so the file opens the same from a disk, an e-mail or MLflow.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CSS = """
:root { --ink: #1b1f24; --muted: #57606a; --rule: #d8dee4; --soft: #f4f6f8; --accent: #0b5cad;
  --good: #116329; --bad: #a40e26; --warn: #7d4e00; --warn-bg: #fff8e6; }
* { box-sizing: border-box; }
html { color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
body { max-width: 1280px; margin: 0 auto; padding: 28px 32px 56px; }
h1 { font-size: 27px; line-height: 1.25; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p { margin: 8px 0; max-width: 80ch; }
.lead { font-size: 17px; color: var(--muted); margin-top: 0; }
.meta { color: var(--muted); font-size: 13px; }
.note { color: var(--muted); font-size: 13px; max-width: 100ch; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  background: var(--soft); padding: 1px 4px; border-radius: 3px; }
dd code, p code, li code { overflow-wrap: anywhere; }
td code, th code { white-space: nowrap; }
td code.long, th code.long { white-space: normal; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.answer { border-left: 5px solid var(--accent); background: var(--soft); padding: 12px 18px; margin: 12px 0;
  font-size: 16.5px; max-width: 100ch; }
.answer.unclear { border-left-color: var(--warn); background: var(--warn-bg); }
.answer strong { font-weight: 650; }
.warning { border-left: 4px solid var(--warn); background: var(--warn-bg); padding: 8px 14px; margin: 8px 0;
  max-width: 100ch; }
.wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 8px 0; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 13px; padding-top: 6px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); font-weight: 600; vertical-align: bottom; }
th.num, td.num { text-align: right; white-space: nowrap; }
td.name { font-weight: 600; }
tr.chosen td { background: #eaf3fc; }
.sub { display: block; color: var(--muted); font-size: 12.5px; font-weight: normal; }
.good { color: var(--good); }
.bad { color: var(--bad); }
.tag { display: inline-block; font-size: 11.5px; font-weight: 600; padding: 0 6px; border-radius: 9px;
  border: 1px solid currentColor; margin-left: 6px; vertical-align: 1px; white-space: nowrap; }
.cal { color: var(--warn); font-weight: 700; margin-left: 2px; }
.tag.base { color: var(--muted); }
.tag.best { color: var(--accent); }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(540px, 100%), 1fr)); gap: 22px 26px; }
figure { margin: 0; break-inside: avoid; }
figure.wide { grid-column: 1 / -1; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
ul { padding-left: 22px; max-width: 100ch; }
li { margin: 4px 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
@media (max-width: 760px) {
  body { padding: 12px 10px 32px; }
  th, td { padding: 5px 6px; }
  td .desc { display: none; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 6px; }
}
@media print {
  html { font-size: 10.5pt; }
  body { max-width: none; padding: 0; }
  h2, h3 { break-after: avoid; }
  table, figure, .answer, .warning, dl.facts { break-inside: avoid; }
  .wrap { overflow: visible; }
  .plots { grid-template-columns: 1fr 1fr; gap: 12px; }
  tr.chosen td { background: none; }
}
@page { margin: 16mm 14mm; }
"""


@dataclass(frozen=True)
class Cell:
    """A table cell: its inner HTML (already escaped) and a CSS class."""

    html: str
    cls: str = ""


def esc(text: object) -> str:
    """``text`` as HTML text."""
    return html.escape(str(text), quote=True)


def code(text: object) -> str:
    """``text`` in a code span."""
    return f"<code>{esc(text)}</code>"


def breakable(text: object, after: str = ",") -> str:
    """``text`` escaped, with break opportunities after each character of ``after`` (long names)."""
    out = esc(text)
    for char in after:
        out = out.replace(char, char + "<wbr>")
    return out


def with_sub(main: str, sub: str) -> str:
    """Inner HTML of a cell with a second, smaller line (both already escaped)."""
    return f"{main}<span class='sub'>{sub}</span>" if sub else main


def table(header: Sequence[Cell | str], rows: Sequence[Sequence[Cell | str]], *, caption: str = "") -> str:
    """A table; plain strings are escaped, :class:`Cell` contents are used as they are."""

    def cell(tag: str, value: Cell | str) -> str:
        c = value if isinstance(value, Cell) else Cell(esc(value))
        attr = f" class='{c.cls}'" if c.cls else ""
        return f"<{tag}{attr}>{c.html}</{tag}>"

    head = "".join(cell("th", h) for h in header)
    body = []
    for row in rows:
        chosen = " class='chosen'" if row and isinstance(row[0], Cell) and "chosen" in row[0].cls.split() else ""
        body.append(f"<tr{chosen}>" + "".join(cell("td", v) for v in row) + "</tr>")
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f"<div class='wrap'><table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


#: Media types of the images a page can embed, by file suffix.
IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def data_uri(path: Path) -> str:
    """The image at ``path`` as a ``data:`` URI."""
    kind = IMAGE_TYPES[path.suffix.lower()]
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def figure(path: Path, *, name: str, caption: str, wide: bool = False) -> str:
    """An embedded image with its caption and the file name it came from; ``wide`` spans the grid."""
    return (
        f"<figure{' class=wide' if wide else ''}><img src='{data_uri(path)}' alt='{esc(caption)}'>"
        f"<figcaption>{esc(caption)} <code>{esc(name)}</code></figcaption></figure>"
    )


def page(title: str, body: str) -> str:
    """A whole HTML document with the inline style sheet."""
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
