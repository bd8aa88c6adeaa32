"""What a Streamlit session receives, as text: every element's protobuf (Arrow tables decoded) and the content of
every file offered for download (zip, xlsx and PDF opened). Used to check that no forbidden value reaches a page."""

from __future__ import annotations

import io
import re
import zipfile

import pyarrow as pa
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest


class RecordingStorage(MemoryMediaFileStorage):
    """Keeps every file a page hands to the browser (downloads, images)."""

    files: list[bytes] = []

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        RecordingStorage.files.append(self._files_by_id[file_id].content)
        return file_id


class RecordingManager(MediaFileManager):
    """Deferred downloads (data given as a callable) are produced on click: produce them here."""

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
        data = data_callable()
        RecordingStorage.files.append(data if isinstance(data, bytes) else str(data).encode())
        return super().add_deferred(data_callable, mimetype, coordinates, file_name, element_id=element_id)


@pytest.fixture(autouse=True)
def record_media(monkeypatch):
    import streamlit.testing.v1.app_test as app_test

    RecordingStorage.files = []
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", RecordingStorage)
    monkeypatch.setattr(app_test, "MediaFileManager", RecordingManager)
    yield
    RecordingStorage.files = []  # a later test without this fixture must not see these files


def arrow_text(data: bytes) -> str:
    """An Arrow IPC stream (st.dataframe, charts) as CSV text; "" when the bytes are not Arrow."""
    try:
        table = pa.ipc.open_stream(pa.BufferReader(data)).read_all()
    except (pa.ArrowInvalid, OSError):
        return ""
    return table.to_pandas().to_csv(index=False)


def proto_bytes(message) -> list[bytes]:
    """Every bytes field of a protobuf message, nested ones included."""
    found = []
    for descriptor, value in message.ListFields():
        values = value if descriptor.is_repeated else [value]
        if hasattr(values, "values"):  # a map field: its entries' values
            values = list(values.values())
        for item in values:
            if isinstance(item, bytes):
                found.append(item)
            elif hasattr(item, "ListFields"):
                found += proto_bytes(item)
    return found


def file_text(data: bytes) -> str:
    """A downloaded file's readable content: zip members (xlsx too) and PDF text extracted."""
    parts = [data.decode("utf-8", "replace")]
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts += [file_text(archive.read(name)) for name in archive.namelist()]
    elif data[:4] == b"%PDF":
        from pypdf import PdfReader

        parts += [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
    return "\n".join(parts)


def everything_sent(at: AppTest) -> str:
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            parts.append(str(proto))
            for data in proto_bytes(proto):
                parts.extend([data.decode("utf-8", "replace"), arrow_text(data)])
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    parts += [file_text(data) for data in RecordingStorage.files]
    return "\n".join(parts)


def leaked(sent: str, values: list[str]) -> list[str]:
    """The values found in `sent`; phone numbers are also looked for whatever their spacing or format."""
    compact = re.sub(r"[\s.\-()/]", "", sent)
    found = []
    for value in values:
        digits = re.sub(r"\D", "", value)
        if value in sent or (value.startswith("+33") and digits[2:] in compact):
            found.append(value)
    return found
