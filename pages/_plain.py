"""Data shown as plain text in elements that render Markdown.

Streamlit renders Markdown (GitHub-flavoured, plus its own `:red[…]`, `:material/…:` directives and `$…$` LaTeX) in
st.markdown/st.write/st.caption, headings, alerts, toasts, st.table cells and every widget label. Text that comes
from the sheet or from the public forms must never become a link, an image (a tracking pixel fetched by a staff
browser), formatting or a directive there: `plain` backslash-escapes every ASCII punctuation character, which
CommonMark turns back into the literal character (HTML is not rendered anyway without unsafe_allow_html, but an
escaped `<` also keeps autolinks such as `<http://…>` and `contact@…` plain). Elements that never render Markdown
(st.text, st.code, st.dataframe cells, selectbox/multiselect options) take the raw text.
"""

from __future__ import annotations

import re
import string

_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")


def plain(value: object) -> str:
    """`value` as text for a Markdown-rendering element: shows exactly as typed, nothing rendered from it."""
    text = "" if value is None else str(value)
    # A line break inside a label or a heading would start a new Markdown block; a space reads the same.
    return _SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def plain_lines(value: object) -> str:
    """Multi-line text (a reason, a conclusion): each line kept as its own line (a hard line break)."""
    return "  \n".join(plain(line) for line in ("" if value is None else str(value)).splitlines())


def plain_rows(rows: list[dict]) -> list[dict]:
    """Rows for st.table, whose headers and cells render Markdown."""
    return [{plain(key): plain(value) for key, value in row.items()} for row in rows]
