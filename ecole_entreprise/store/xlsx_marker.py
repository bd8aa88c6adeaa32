"""The app's write marker inside the .xlsx: a custom document property « ecole_entreprise_ecriture ».

Its value names the app-write log and the last app write the file contains ("<log id>:<sequence>"). Excel,
LibreOffice and openpyxl keep custom document properties when they save (File > Properties > Custom), so a
copy a person saves still tells which app write it was based on: an older number than the log's last write means
the copy was opened before the later writes, which it therefore erased.
"""

from __future__ import annotations

import html
import re

from .xlsx_io import Member, deflated

NAME = "ecole_entreprise_ecriture"
PART = "docProps/custom.xml"
_TYPES = "[Content_Types].xml"
_ROOT_RELS = "_rels/.rels"
_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the format id every custom property carries
_PROPERTY = re.compile(r"<(\w+:)?property\b([^>]*)>(.*?)</(\w+:)?property>", re.S)
_VALUE = re.compile(r"<(\w+:)?lpwstr>(.*?)</(\w+:)?lpwstr>", re.S)


def _ours(attributes: str) -> bool:
    return re.search(rf'\bname\s*=\s*["\']{NAME}["\']', attributes) is not None


def read_marker(members: dict[str, Member]) -> str | None:
    """The marker's value, or None when the file has none (never written by the app, or dropped by a program)."""
    member = members.get(PART)
    if member is None:
        return None
    for match in _PROPERTY.finditer(member.text()):
        if _ours(match.group(2)):
            value = _VALUE.search(match.group(3))
            return html.unescape(value.group(2)) if value else None
    return None


def write_marker(members: dict[str, Member], value: str) -> None:
    """Set the marker in place (other custom properties a person added are kept)."""
    text = html.escape(value)
    if PART in members:
        xml = members[PART].text()
        found = next((m for m in _PROPERTY.finditer(xml) if _ours(m.group(2))), None)
        if found is not None:
            inner = _VALUE.sub(lambda m: f"<{m.group(1) or ''}lpwstr>{text}</{m.group(3) or ''}lpwstr>",
                               found.group(3), count=1)
            xml = xml[:found.start(3)] + inner + xml[found.end(3):]
        else:
            pids = [int(p) for p in re.findall(r'\bpid\s*=\s*["\'](\d+)["\']', xml)]
            vt = _vt_prefix(xml)
            prop = (f'<property fmtid="{_FMTID}" pid="{max(pids, default=1) + 1}" name="{NAME}">'
                    f"<{vt}lpwstr>{text}</{vt}lpwstr></property>")
            xml = re.sub(r"(</(\w+:)?Properties>)", lambda m: prop + m.group(1), xml, count=1)
    else:
        xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
               'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
               f'<property fmtid="{_FMTID}" pid="2" name="{NAME}"><vt:lpwstr>{text}</vt:lpwstr></property>'
               "</Properties>")
        _declare(members)
    members[PART] = deflated(PART, xml.encode("utf-8"), 6)


def _vt_prefix(xml: str) -> str:
    found = re.search(r'xmlns:(\w+)="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"', xml)
    return f"{found.group(1)}:" if found else "vt:"


def _declare(members: dict[str, Member]) -> None:
    """A new part needs its content type and a relationship from the package root."""
    types = members[_TYPES].text()
    if f'PartName="/{PART}"' not in types:
        types = re.sub(r"(</(\w+:)?Types>)", lambda m: f'<Override PartName="/{PART}" ContentType="{_CONTENT_TYPE}"/>'
                       + m.group(1), types, count=1)
        members[_TYPES] = deflated(_TYPES, types.encode("utf-8"), 6)
    rels = members[_ROOT_RELS].text() if _ROOT_RELS in members else (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
    if _REL_TYPE not in rels:
        ids = set(re.findall(r'\bId\s*=\s*"([^"]*)"', rels))
        new_id = next(f"rIdEE{n}" for n in range(1, 1000) if f"rIdEE{n}" not in ids)
        rels = re.sub(r"(</(\w+:)?Relationships>)",
                      lambda m: f'<Relationship Id="{new_id}" Type="{_REL_TYPE}" Target="{PART}"/>' + m.group(1),
                      rels, count=1)
        members[_ROOT_RELS] = deflated(_ROOT_RELS, rels.encode("utf-8"), 6)
