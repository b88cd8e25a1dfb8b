"""Many submissions' rows, rendered as a terminal table, markdown, one self-contained HTML page, or JSON.

Generic on purpose (triage uses it; `verify collect` can too): a caller declares columns and hands
rows as plain dicts. A cell value is a string or number, None (empty), a Link, or a list of Links.
Every value is escaped for its format; links are kept only for http(s) URLs. The HTML page needs no
network and no server: its inline script sorts by a header click and filters by a text box, and it
honours `#sort=<column>&dir=asc|desc&filter=<text>` in the URL on load (and keeps the URL in step),
so a sorted, filtered view can be linked to and tested by a headless browser.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse


@dataclass(frozen=True)
class Link:
    text: str
    href: str | None = None
    title: str | None = None   # a longer description (HTML tooltip, JSON field)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"          # text | number | date | link | links
    align: str = "left"
    markdown: bool = True       # shown in the markdown table
    terminal: bool = True       # shown in the terminal table
    fmt: str | None = None      # format spec for numbers ("{:.4f}", "{:,}")
    numeric: bool = False       # sort by the first number in the text ("#1313" -> 1313)


@dataclass
class Table:
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    title: str = ""
    notes: list[str] = field(default_factory=list)   # plain-text lines shown above the table


def _safe_href(href: str | None) -> str | None:
    if not href:
        return None
    try:
        scheme = urlparse(href).scheme
    except ValueError:
        return None
    return href if scheme in ("http", "https") else None


def _links(value: Any) -> list[Link]:
    if isinstance(value, Link):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v if isinstance(v, Link) else Link(str(v)) for v in value]
    return []


def plain(column: Column, value: Any) -> str:
    """The cell as plain text (terminal, markdown text, filtering)."""
    if value is None:
        return ""
    if column.kind in ("link", "links") or isinstance(value, (Link, list, tuple)):
        return "; ".join(link.text for link in _links(value))
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    if column.fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
        return column.fmt.format(value)
    return str(value)


def sort_key(column: Column, value: Any) -> str:
    """The cell's sort key as the page's script reads it: a number, or lower-case text."""
    if column.kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return repr(float(value))
        return ""
    if column.numeric:
        m = re.search(r"\d+(?:\.\d+)?", plain(column, value))
        return repr(float(m.group(0))) if m else ""
    return plain(column, value).lower()


# -- terminal -------------------------------------------------------------------------------------
def to_text(table: Table, width: int = 160) -> str:
    from rich.console import Console
    from rich.table import Table as RichTable

    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, highlight=False)
    rich_table = RichTable(title=table.title or None, show_lines=False)
    columns = [c for c in table.columns if c.terminal]
    for c in columns:
        rich_table.add_column(c.title, justify="right" if c.align == "right" else "left",
                              overflow="fold")
    for row in table.rows:
        rich_table.add_row(*(plain(c, row.get(c.key)) for c in columns))
    for note in table.notes:
        console.print(note, markup=False)
    console.print(rich_table)
    return buf.getvalue()


# -- markdown -------------------------------------------------------------------------------------
def md_escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    for ch in "`*_[]<>#":
        text = text.replace(ch, "\\" + ch)
    return text


def _md_cell(column: Column, value: Any) -> str:
    links = _links(value) if column.kind in ("link", "links") else []
    if links:
        parts = []
        for link in links:
            href = _safe_href(link.href)
            text = md_escape(link.text)
            parts.append(f"[{text}]({href.replace(')', '%29').replace(' ', '%20')})" if href else text)
        return "<br>".join(parts) if column.kind == "links" else parts[0]
    return md_escape(plain(column, value))


def to_markdown(table: Table, limit: int | None = None) -> str:
    columns = [c for c in table.columns if c.markdown]
    rows = table.rows if limit is None else table.rows[:limit]
    lines = []
    if table.title:
        lines += [f"### {md_escape(table.title)}", ""]
    for note in table.notes:
        lines.append(md_escape(note) + "  ")
    if table.notes:
        lines.append("")
    lines.append("| " + " | ".join(md_escape(c.title) for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.align == "right" else "---" for c in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_md_cell(c, row.get(c.key)) for c in columns) + " |")
    if limit is not None and len(table.rows) > limit:
        lines += ["", f"... and {len(table.rows) - limit} more rows"]
    return "\n".join(lines) + "\n"


# -- json -----------------------------------------------------------------------------------------
def _json_value(value: Any) -> Any:
    if isinstance(value, Link):
        return {"text": value.text, "href": _safe_href(value.href), "title": value.title}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(table: Table) -> dict[str, Any]:
    return {
        "title": table.title,
        "columns": [{"key": c.key, "title": c.title, "kind": c.kind} for c in table.columns],
        "rows": [{c.key: _json_value(row.get(c.key)) for c in table.columns} for row in table.rows],
    }


# -- html -----------------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2em;color:#1b1f24}
h1{font-size:1.3em;margin:0 0 .4em} .notes{color:#57606a;margin:.2em 0 .8em;white-space:pre-wrap}
#controls{margin:.6em 0;display:flex;gap:1em;align-items:center}
#filter{width:28em;padding:.35em .5em;font:inherit;border:1px solid #8c959f;border-radius:4px}
table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #d0d7de;padding:.3em .5em;
vertical-align:top;text-align:left} th{position:sticky;top:0;background:#f6f8fa;cursor:pointer;
user-select:none;white-space:nowrap} th.asc::after{content:" \\25B2"} th.desc::after{content:" \\25BC"}
td.right,th.right{text-align:right} td.number{font-variant-numeric:tabular-nums;white-space:nowrap}
tr:hover td{background:#f6f8fa} a{color:#0969da;text-decoration:none} a:hover{text-decoration:underline}
.links span{display:block} td.links{font-size:12px;max-width:34em} td.date{white-space:nowrap}
td.link{max-width:22em;overflow-wrap:anywhere} td.numeric{white-space:nowrap;overflow-wrap:normal}
td.text{max-width:30em;overflow-wrap:anywhere} .v-fail{color:#cf222e;font-weight:600} .v-error{color:#8250df;font-weight:600}
.v-warn{color:#9a6700} .v-pass{color:#1a7f37}
"""

_JS = """
(function(){
  var table=document.getElementById('rows'), body=table.tBodies[0], heads=table.tHead.rows[0].cells;
  var input=document.getElementById('filter'), count=document.getElementById('count');
  var rows=Array.prototype.slice.call(body.rows), state={sort:'',dir:'asc',filter:''};
  rows.forEach(function(r,i){r.dataset.order=i; r.dataset.text=r.textContent.toLowerCase();});
  function colIndex(key){for(var i=0;i<heads.length;i++){if(heads[i].dataset.key===key)return i;}return -1;}
  function cellKey(r,i){var c=r.cells[i];return c?c.dataset.sort:'';}
  function matches(r,terms){
    for(var t=0;t<terms.length;t++){var term=terms[t],m=term.indexOf(':');
      if(m>0){var i=colIndex(term.slice(0,m));
        if(i>=0){var c=r.cells[i];if(!c||c.textContent.toLowerCase().indexOf(term.slice(m+1))<0)return false;continue;}}
      if(r.dataset.text.indexOf(term)<0)return false;}
    return true;}
  function apply(){
    var i=colIndex(state.sort), num=i>=0&&heads[i].dataset.kind==='number', sign=state.dir==='desc'?-1:1;
    var sorted=rows.slice();
    if(i>=0){sorted.sort(function(a,b){var x=cellKey(a,i),y=cellKey(b,i);
      if(x===''&&y!=='')return 1; if(y===''&&x!=='')return -1;
      var d=num?(parseFloat(x)-parseFloat(y)):(x<y?-1:x>y?1:0);
      return d!==0?sign*d:(a.dataset.order-b.dataset.order);});}
    var terms=state.filter.toLowerCase().split(/\\s+/).filter(Boolean), shown=0;
    sorted.forEach(function(r){var ok=matches(r,terms);r.style.display=ok?'':'none';if(ok)shown++;body.appendChild(r);});
    for(var h=0;h<heads.length;h++){heads[h].className=(heads[h].className.replace(/\\b(asc|desc)\\b/g,'').trim()+
      (h===i?' '+state.dir:'')).trim();}
    count.textContent=shown+' of '+rows.length+' rows';
    var hash='sort='+encodeURIComponent(state.sort)+'&dir='+state.dir+'&filter='+encodeURIComponent(state.filter);
    if(history.replaceState){history.replaceState(null,'','#'+hash);}
    document.body.dataset.state=hash;}
  function load(){
    var h=location.hash.replace(/^#/,'');
    h.split('&').forEach(function(p){var kv=p.split('=');if(kv.length<2)return;
      var v=decodeURIComponent(kv.slice(1).join('=').replace(/\\+/g,' '));
      if(kv[0]==='sort')state.sort=v; else if(kv[0]==='dir')state.dir=(v==='desc'?'desc':'asc');
      else if(kv[0]==='filter')state.filter=v;});
    input.value=state.filter; apply();}
  for(var h=0;h<heads.length;h++){(function(th){th.addEventListener('click',function(){
    var k=th.dataset.key; state.dir=(state.sort===k&&state.dir==='asc')?'desc':'asc'; state.sort=k; apply();});})(heads[h]);}
  input.addEventListener('input',function(){state.filter=input.value;apply();});
  window.addEventListener('hashchange',load);
  load();
})();
"""


def _html_cell(column: Column, value: Any) -> str:
    classes = [column.kind]
    if column.numeric:
        classes.append("numeric")
    if column.align == "right":
        classes.append("right")
    attrs = f' class="{" ".join(classes)}" data-sort="{html.escape(sort_key(column, value), quote=True)}"'
    if column.kind in ("link", "links"):
        parts = []
        for link in _links(value):
            text = html.escape(link.text)
            title = f' title="{html.escape(link.title, quote=True)}"' if link.title else ""
            href = _safe_href(link.href)
            if href:
                parts.append(f'<a href="{html.escape(href, quote=True)}"{title} rel="noreferrer noopener"'
                             f' target="_blank">{text}</a>')
            else:
                parts.append(f"<span{title}>{text}</span>" if title else text)
        if column.kind == "links":
            return f'<td{attrs}>' + "".join(f"<span>{p}</span>" for p in parts) + "</td>"
        return f"<td{attrs}>{parts[0] if parts else ''}</td>"
    text = html.escape(plain(column, value))
    if column.key == "verdict" and text:
        text = f'<span class="v-{html.escape(text.split()[0], quote=True)}" style="white-space:nowrap">{text}</span>'
    return f"<td{attrs}>{text}</td>"


def to_html(table: Table, header_html: str = "") -> str:
    """One self-contained page: inline CSS and script, no external resource of any kind.

    `header_html` is trusted markup from the caller (already escaped) placed above the table.
    """
    title = html.escape(table.title or "golflint")
    head = "".join(
        f'<th data-key="{html.escape(c.key, quote=True)}" data-kind="{"number" if c.numeric else c.kind}"'
        f'{" class=" + chr(34) + "right" + chr(34) if c.align == "right" else ""}>{html.escape(c.title)}</th>'
        for c in table.columns)
    body = "\n".join("<tr>" + "".join(_html_cell(c, row.get(c.key)) for c in table.columns) + "</tr>"
                     for row in table.rows)
    notes = "".join(f'<div class="notes">{html.escape(n)}</div>' for n in table.notes)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{title}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{title}</h1>{header_html}{notes}\n"
        '<div id="controls"><input id="filter" type="search" placeholder="filter: words, or column:text '
        '(verdict:fail)" aria-label="filter rows"><span id="count"></span></div>\n'
        f'<table id="rows"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>\n'
        f"<script>{_JS}</script></body></html>\n"
    )


def render(table: Table, fmt: str) -> str:
    if fmt == "text":
        return to_text(table)
    if fmt == "markdown":
        return to_markdown(table)
    if fmt == "html":
        return to_html(table)
    if fmt == "json":
        return json.dumps(to_json(table), indent=2) + "\n"
    raise ValueError(f"unknown table format {fmt!r}")


def rows_of(records: Iterable[dict[str, Any]], columns: Sequence[Column]) -> list[dict[str, Any]]:
    """Keep only the declared columns of each record (missing ones are None)."""
    return [{c.key: r.get(c.key) for c in columns} for r in records]
