"""Developer metadata in the fake Sheets API: createDeveloperMetadata, updateDeveloperMetadata and
deleteDeveloperMetadata (batchUpdate), developerMetadata.get and developerMetadata.search.

What Google documents, and the fake does:
- `metadataId` is unique in the spreadsheet and may be chosen by the caller: creating a second entry with an
  ID in use is refused (400), so the whole batchUpdate applies nothing;
- metadata on a row or column stays with it when rows or columns are inserted, deleted or moved, and is deleted
  with its row, column or sheet (the moves are in tests/support/fake_sheets.py, Sheet.insert/delete/move);
- a DeveloperMetadataLookup selects the entries matching every field it names;
- at most 30,000 characters of keys and values per spreadsheet and per sheet (metadata storage limits).
What Google does not document, and the fake assumes: a sort leaves row metadata where it was (the worst case for
anyone relying on it), and deleteDeveloperMetadata whose filter matches nothing is not an error (it deletes
nothing and answers an empty list). The adapter does not depend on the latter.
"""

from __future__ import annotations

import copy

from tests.support.fake_sheets import ApiError, Sheet

MAX_CHARS = 30_000
VISIBILITIES = ("DOCUMENT", "PROJECT")


def _location_type(location: dict) -> str:
    if location.get("spreadsheet"):
        return "SPREADSHEET"
    if "dimensionRange" in location:
        return "ROW" if location["dimensionRange"].get("dimension", "ROWS") == "ROWS" else "COLUMN"
    return "SHEET"


def _out(meta: dict) -> dict:
    out = {k: copy.deepcopy(v) for k, v in meta.items() if k != "location"}
    location = dict(meta["location"])
    if "dimensionRange" in location:
        rng = dict(location["dimensionRange"])
        if rng.get("sheetId") == 0:
            rng.pop("sheetId")
        location["dimensionRange"] = rng
    location["locationType"] = _location_type(meta["location"])
    out["location"] = location
    return out


def _holder(fake, book, location: dict) -> tuple[list[dict], Sheet | None]:
    """The list an entry at this location lives in (the spreadsheet's, or its sheet's), and the sheet."""
    if location.get("spreadsheet"):
        return book.metadata, None
    if "dimensionRange" in location:
        rng = location["dimensionRange"]
        sheet = fake._sheet_of(book, rng.get("sheetId"))
        size = sheet.row_count if rng.get("dimension", "ROWS") == "ROWS" else sheet.col_count
        start, end = rng.get("startIndex"), rng.get("endIndex")
        if start is None or end is None or end - start != 1 or not 0 <= start < size:
            raise ApiError(400, "The dimension range of developer metadata must be exactly one row or column "
                                "inside the grid.")
        return sheet.metadata, sheet
    if "sheetId" in location:
        sheet = fake._sheet_of(book, location["sheetId"])
        return sheet.metadata, sheet
    raise ApiError(400, "Developer metadata must have a location.")


def all_entries(book) -> list[dict]:
    return list(book.metadata) + [m for sheet in book.sheets for m in sheet.metadata]


def _size(entries: list[dict]) -> int:
    return sum(len(m.get("metadataKey", "")) + len(m.get("metadataValue", "")) for m in entries)


def create(fake, book, params: dict, index: int) -> dict:
    wanted = params.get("developerMetadata", {})
    if not wanted.get("metadataKey"):
        raise ApiError(400, "Developer metadata must have a key.")
    if wanted.get("visibility") not in VISIBILITIES:
        raise ApiError(400, "Developer metadata must have a visibility of DOCUMENT or PROJECT.")
    existing = {m["metadataId"] for m in all_entries(book)}
    metadata_id = wanted.get("metadataId")
    if metadata_id is not None:
        if metadata_id <= 0:
            raise ApiError(400, "Developer metadata IDs must be positive.")
        if metadata_id in existing:
            raise ApiError(400, f"Developer metadata with ID {metadata_id} already exists.")
    else:
        metadata_id = fake._rng.randrange(1, 2**31 - 1)
        while metadata_id in existing:
            metadata_id = fake._rng.randrange(1, 2**31 - 1)
    location = copy.deepcopy(wanted.get("location", {}))
    location.pop("locationType", None)
    holder, sheet = _holder(fake, book, location)
    if "dimensionRange" in location:
        location["dimensionRange"].setdefault("sheetId", 0)
        location["dimensionRange"].setdefault("dimension", "ROWS")
    entry = {"metadataId": metadata_id, "metadataKey": wanted["metadataKey"], "location": location,
             "visibility": wanted["visibility"]}
    if wanted.get("metadataValue"):
        entry["metadataValue"] = wanted["metadataValue"]
    if _size(holder) + _size([entry]) > MAX_CHARS:
        raise ApiError(400, "Adding this developer metadata would exceed the 30,000 character limit "
                            f"{'of the sheet' if sheet else 'of the spreadsheet'}.")
    holder.append(entry)
    return {"createDeveloperMetadata": {"developerMetadata": _out(entry)}}


def _same_location(a: dict, b: dict) -> bool:
    if _location_type(a) != _location_type(b):
        return False
    if a.get("spreadsheet"):
        return True
    if "dimensionRange" in a:
        ra, rb = a["dimensionRange"], b["dimensionRange"]
        return all(ra.get(k, d) == rb.get(k, d) for k, d in
                   (("sheetId", 0), ("dimension", "ROWS"), ("startIndex", 0), ("endIndex", 0)))
    return a.get("sheetId", 0) == b.get("sheetId", 0)


def _sheet_of_location(location: dict):
    if location.get("spreadsheet"):
        return None
    return location["dimensionRange"].get("sheetId", 0) if "dimensionRange" in location \
        else location.get("sheetId", 0)


def _intersects(entry_location: dict, wanted: dict) -> bool:
    """INTERSECTING_LOCATION: the spreadsheet meets everything; a sheet meets its rows and columns; a row meets
    the rows it overlaps and every column of its sheet (they cross at a cell)."""
    if wanted.get("spreadsheet") or entry_location.get("spreadsheet"):
        return True
    if _sheet_of_location(entry_location) != _sheet_of_location(wanted):
        return False
    if "dimensionRange" not in wanted or "dimensionRange" not in entry_location:
        return True
    ra, rb = entry_location["dimensionRange"], wanted["dimensionRange"]
    if ra.get("dimension", "ROWS") != rb.get("dimension", "ROWS"):
        return True
    return ra.get("startIndex", 0) < rb.get("endIndex", 10**9) and rb.get("startIndex", 0) < ra.get("endIndex", 0)


def _lookup_matches(entry: dict, lookup: dict) -> bool:
    for key in ("metadataId", "metadataKey", "metadataValue", "visibility"):
        if key in lookup and entry.get(key, "" if key == "metadataValue" else None) != lookup[key]:
            return False
    if "locationType" in lookup and _location_type(entry["location"]) != lookup["locationType"]:
        return False
    if "metadataLocation" in lookup:
        wanted = dict(lookup["metadataLocation"])
        wanted.pop("locationType", None)
        strategy = lookup.get("locationMatchingStrategy", "INTERSECTING_LOCATION")
        same = _same_location(entry["location"], wanted)
        if not same and (strategy == "EXACT_LOCATION" or not _intersects(entry["location"], wanted)):
            return False
    return True


def _range_matches(fake, book, entry: dict, data_filter: dict) -> bool:
    """a1Range / gridRange filters select the metadata whose row, column or sheet meets the range."""
    if "a1Range" in data_filter:
        sheet, box = fake._resolve(book, data_filter["a1Range"])
        rng = {"sheetId": sheet.sheet_id, "startRowIndex": box.r0, "endRowIndex": box.r1 + 1,
               "startColumnIndex": box.c0, "endColumnIndex": box.c1 + 1}
    else:
        rng = data_filter["gridRange"]
    location = entry["location"]
    if location.get("spreadsheet") or _sheet_of_location(location) != rng.get("sheetId", 0):
        return False
    if "dimensionRange" not in location:
        return True
    dim = location["dimensionRange"]
    lo, hi = (("startRowIndex", "endRowIndex") if dim.get("dimension", "ROWS") == "ROWS"
              else ("startColumnIndex", "endColumnIndex"))
    return rng.get(lo, 0) <= dim["startIndex"] < rng.get(hi, 10**9)


def matching(fake, book, data_filter: dict) -> list[dict]:
    if "developerMetadataLookup" in data_filter:
        lookup = data_filter["developerMetadataLookup"]
        return [m for m in all_entries(book) if _lookup_matches(m, lookup)]
    if "a1Range" in data_filter or "gridRange" in data_filter:
        return [m for m in all_entries(book) if _range_matches(fake, book, m, data_filter)]
    raise ApiError(400, "A data filter must set developerMetadataLookup, a1Range or gridRange.")


def delete(fake, book, params: dict, index: int) -> dict:
    doomed = matching(fake, book, params.get("dataFilter", {}))
    ids = {id(m) for m in doomed}
    book.metadata[:] = [m for m in book.metadata if id(m) not in ids]
    for sheet in book.sheets:
        sheet.metadata[:] = [m for m in sheet.metadata if id(m) not in ids]
    return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": [_out(m) for m in doomed]}}


def update(fake, book, params: dict, index: int) -> dict:
    fields = [f.strip() for f in params.get("fields", "").split(",") if f.strip()]
    if not fields:
        raise ApiError(400, "At least one field must be specified in 'fields'.")
    wanted = params.get("developerMetadata", {})
    found = [m for f in params.get("dataFilters", []) for m in matching(fake, book, f)]
    unique = list({id(m): m for m in found}.values())
    for entry in unique:
        for name in fields:
            if name == "location":
                location = copy.deepcopy(wanted.get("location", {}))
                location.pop("locationType", None)
                new_holder, _ = _holder(fake, book, location)
                for owner in [book.metadata] + [s.metadata for s in book.sheets]:
                    if entry in owner:
                        owner.remove(entry)
                entry["location"] = location
                new_holder.append(entry)
            elif name in ("metadataKey", "metadataValue", "visibility"):
                if wanted.get(name):
                    entry[name] = wanted[name]
                else:
                    entry.pop(name, None)
            else:
                raise ApiError(400, f"Cannot update field '{name}' of developer metadata.")
    return {"updateDeveloperMetadata": {"developerMetadata": [_out(m) for m in unique]}}


def get(book, metadata_id: int) -> dict:
    for entry in all_entries(book):
        if entry["metadataId"] == metadata_id:
            return _out(entry)
    raise ApiError(404, f"No developer metadata with ID: {metadata_id}")


def search(fake, book, body: dict) -> dict:
    matched = []
    for data_filter in body.get("dataFilters", []):
        for entry in matching(fake, book, data_filter):
            matched.append({"developerMetadata": _out(entry), "dataFilters": [data_filter]})
    return {"matchedDeveloperMetadata": matched} if matched else {}
