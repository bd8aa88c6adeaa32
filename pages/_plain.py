"""Data shown as plain text in elements that render Markdown.

Streamlit renders Markdown (GitHub-flavoured, plus its own `:red[…]`, `:material/…:` directives and `$…$` LaTeX) in
st.markdown/st.write/st.caption, headings, alerts, toasts, st.table cells and every widget label. Text that comes
from the sheet or from the public forms must never become a link, an image (a tracking pixel fetched by a staff
browser), formatting or a directive there: `plain` backslash-escapes the characters that open one, which CommonMark
turns back into the literal character (HTML is not rendered anyway without unsafe_allow_html, but an escaped `<`
also keeps autolinks such as `<http://…>` plain; the bare `http://…`, `www.…` and `contact@…` get an invisible word
joiner).
Elements that never render Markdown (st.text, st.code, st.dataframe cells, selectbox/multiselect options) take the
raw text.
"""

from __future__ import annotations

import re

# What opens a Markdown construct within a line: emphasis, code, links and images, raw HTML and `<…>` autolinks,
# strikethrough, tables, LaTeX, Streamlit's `:red[…]` and `:material/…:` directives, entities such as `&lt;`. The
# common punctuation of French text (« : », `-`, `.`, `(`, `'`, `a_b`) is kept as it is when it cannot open anything,
# so that messages read the same in tests and logs.
_SPECIAL = re.compile(r"[\\`*\[\]<~|$]"  # always
                      r"|_(?![^\W_])|(?<![^\W_])_"  # `_` unless inside a word (intraword `_` never emphasises)
                      # a directive or a scheme; a colon followed by a space, or between two digits (« 08:19 »),
                      # opens neither
                      r"|(?<!\d):(?=\S)|(?<=\d):(?=[^\s\d])"
                      r"|&(?=#?\w+;)")  # an entity
# The bare autolinks (`http://…`, `www.…`, `contact@…`), icons and emoji shortcodes are found in the text after the
# escapes are read, so a backslash does not stop them: an invisible WORD JOINER (U+2060) breaks the pattern instead.
_AUTOLINK = re.compile(r"(?<=[wW]{3})(?=\.)|(?=@)|(?<!\\)(?=\\?:(?://|[^\s:]*@))"
                       r"|(?<=:)(?=[A-Za-z+])")  # `:material/…:` and `:smile:` are also found in the text
JOINER = "\u2060"
_LINE_START = re.compile(r"^(\s*)(\d+(?=[.)])[.)]|[-+=>#])")  # lists, setext and ATX headings, quotes


def plain(value: object) -> str:
    """`value` as text for a Markdown-rendering element: shows exactly as typed, nothing rendered from it."""
    text = " ".join(("" if value is None else str(value)).splitlines())  # a line break would start a new block
    text = _SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = _AUTOLINK.sub(JOINER, text)
    return _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def plain_lines(value: object) -> str:
    """Multi-line text (a reason, a conclusion): each line kept as its own line (a hard line break)."""
    return "  \n".join(plain(line) for line in ("" if value is None else str(value)).splitlines())


def plain_rows(rows: list[dict]) -> list[dict]:
    """Rows for st.table, whose headers and cells render Markdown."""
    return [{plain(key): plain(value) for key, value in row.items()} for row in rows]


def plain_values(values: dict) -> dict:
    """A mapping of data interpolated into a Markdown document (the privacy notice built from Parametres)."""
    return {key: plain(value) for key, value in values.items()}
