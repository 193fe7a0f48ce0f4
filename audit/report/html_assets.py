"""The HTML report's inline stylesheet (screen and print) and its sorting script: no framework, no download.

Colours: body text #1a1a1a on white (17:1), muted text #4a4a4a (8.9:1), links and headings in the template's
primary colour; verdict fills are the layout's GREEN, AMBER, RED and GREY with white text, each at least 4.5:1
(WCAG AA, measured in tests/report/test_html.py).
"""

from __future__ import annotations

__all__ = ["CSS", "SCRIPT"]

CSS = """
:root { --primary: %(primary)s; --muted: #4a4a4a; --rule: #999999; --head: #e8eef4; --side: #f4f6f8; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 15px; color: #1a1a1a;
  background: #ffffff; line-height: 1.45; }
body { margin: 0; }
a { color: var(--primary); }
.skip { position: absolute; left: -999px; top: 0; background: #ffffff; padding: 0.5em; }
.skip:focus { left: 0.5em; z-index: 10; }
body > header { padding: 1em 1.5em; border-bottom: 3px solid var(--primary); }
body > header h1 { margin: 0 0 0.2em; color: var(--primary); font-size: 1.6rem; }
body > header p { margin: 0; color: var(--muted); }
.badge { display: inline-block; color: #ffffff; font-weight: bold; padding: 0.1em 0.6em; border-radius: 3px; }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); }
nav { background: var(--side); border-right: 1px solid #d0d7de; padding: 1em; position: sticky; top: 0;
  align-self: start; max-height: 100vh; overflow-y: auto; font-size: 0.9rem; }
nav .nav-title { font-weight: bold; margin: 0 0 0.5em; }
nav ol { margin: 0; padding-left: 1.1em; }
nav ol ol { font-size: 0.85rem; padding-left: 1em; }
nav li { margin: 0.2em 0; }
main { padding: 0.5em 2em 2em; max-width: 62rem; }
main section { margin-bottom: 2em; }
h2 { color: var(--primary); font-size: 1.35rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em;
  margin-top: 1.4em; }
h3 { color: var(--primary); font-size: 1.08rem; margin: 1.2em 0 0.4em; }
h2, h3 { scroll-margin-top: 0.6em; }
p { margin: 0 0 0.55em; }
p.small { font-size: 0.84rem; color: var(--muted); }
p.title { font-size: 1.5rem; font-weight: bold; color: var(--primary); }
.verdict-box { color: #ffffff; font-weight: bold; font-size: 1.2rem; padding: 0.6em 0.8em; }
.table-wrap { overflow-x: auto; margin: 0 0 0.8em; }
table { border-collapse: collapse; font-size: 0.84rem; min-width: 40%%; }
th, td { border: 1px solid var(--rule); padding: 0.25em 0.4em; vertical-align: top; text-align: left;
  overflow-wrap: anywhere; }
thead th { background: var(--head); }
td.fill, th.fill { color: #ffffff; font-weight: bold; }
th button { font: inherit; font-weight: bold; color: inherit; background: none; border: 0; padding: 0;
  text-align: left; cursor: pointer; }
table.sortable th button::after { content: " \\2195"; color: var(--muted); }
table.sortable th[aria-sort=ascending] button::after { content: " \\2191"; }
table.sortable th[aria-sort=descending] button::after { content: " \\2193"; }
figure { margin: 0.5em 0 0.8em; }
figure img { max-width: 100%%; height: auto; }
img.logo { max-height: 4em; }
body > footer { border-top: 1px solid #d0d7de; padding: 0.8em 1.5em; color: var(--muted); font-size: 0.84rem; }
@media (max-width: 60rem) { .layout { display: block; } nav { position: static; max-height: none; } }
@media print {
  html { font-size: 10pt; }
  .skip, nav { display: none; }
  .layout { display: block; }
  main { padding: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
  .page-break { break-after: page; }
  .keep, figure, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  section.sec-cover { break-after: page; }
  th button::after { content: "" !important; }
  td.fill, th.fill, .verdict-box, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# Sorts a table's body rows by the clicked column: numbers (a leading number, "%%" and "," allowed) before text,
# ascending then descending; aria-sort tells assistive technology the order.
SCRIPT = """
(function () {
  "use strict";
  function key(row, col) {
    var cell = row.cells[col];
    var text = cell ? cell.textContent.trim() : "";
    var m = /^[-+\\u2212]?[0-9][0-9,]*(\\.[0-9]+)?(e[-+]?[0-9]+)?/i.exec(text);
    return m ? {num: parseFloat(m[0].replace(/,/g, "").replace("\\u2212", "-")), text: text} : {num: null, text: text};
  }
  function compare(a, b) {
    if (a.num !== null && b.num !== null) { return a.num - b.num; }
    if (a.num !== null) { return -1; }
    if (b.num !== null) { return 1; }
    return a.text.localeCompare(b.text);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.querySelector("button").addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.map.call(body.rows, function (row, i) { return {row: row, i: i, k: key(row, col)}; });
        rows.sort(function (a, b) { return (compare(a.k, b.k) || a.i - b.i) * (ascending ? 1 : -1); });
        rows.forEach(function (r) { body.appendChild(r.row); });
      });
    });
  });
}());
"""
