"""Spreadsheets in and out, for every feature: formula-safe cells in exports, one bounded reader for imports.

Writing. A cell whose text begins with = + - @ (or a tab or carriage return) is a formula to Excel and
LibreOffice when it comes from a .csv, and a formula in an .xlsx when openpyxl stores it as one (it does so
for any string starting with "="). Exports therefore write text as text (OWASP, "CSV Injection"):
- .xlsx: every string is a string cell (data type "s"), never a formula, with the quote-prefix style on the
  risky ones so that editing the cell in Excel keeps it text. The text itself is unchanged.
- .csv: a risky text gets a leading single quote ("'=1+1"). The import takes it off again, so
  export → import changes nothing. The rule is a bijection: a quote is added exactly when the text,
  after any leading quotes, starts with a risky character, and removed exactly when one is found there.
  Numbers are written as numbers ("-2" stays -2): a number is never a formula.

Reading. An .xlsx is a zip of XML, and a small file can unpack into a huge table (a 105 KB file declaring
A1:XFD20000 took openpyxl to 2.6 GB, a 300 MB shared string to 657 MB). Before openpyxl parses anything the
zip directory is checked (entries, unpacked size of each part and of all), then every part openpyxl will
parse is streamed once through expat, which builds no tree, against LIMITS: the size of each cell and shared
string, how many shared strings, rows and elements, no DTD, no endless tag. openpyxl's read-only mode then
reads the chosen sheet without trusting its declared dimension, and reading stops at the first row or column
past the limits. A .csv is read a line at a time under the same limits. Past any limit the file is refused
with a Chinese message before anything of it is imported.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Literal

# What people are told (one place for every importer).
TEXT = {
    "file_too_large": "文件太大（{size} MB，上限 {limit} MB）。请删去不需要的内容，或分成几个文件分别导入。",
    "unpacked_too_large": (
        "文件解压后太大（其中「{part}」有 {size} MB，上限 {limit} MB）。"
        "请删去不需要的工作表、图片和格式，或分成几个文件分别导入。"
    ),
    "too_many_parts": "文件里的对象太多（{count} 个，上限 {limit} 个），不像是普通的表格文件。"
    "请把数据复制到新建的 Excel 文件后再导入。",
    "too_many_rows": "{where}超过 {limit} 行数据。请分成几个文件分别导入。",
    "too_many_columns": "{where}第{row}行第 {column} 列有内容，超出了 {limit} 列。请删去多余的列后再导入。",
    "cell_too_long": "{where}第{row}行第 {column} 列的内容超过 {limit} 个字。请删减后再导入。",
    "string_too_long": "文件里有单元格的内容超过 {limit} 个字。请删减后再导入。",
    "too_many_strings": "文件里的文字超过 {limit} 项。请分成几个文件分别导入。",
    "line_too_long": "第{row}行太长（超过 {limit} 个字）。请检查文件是否为正常的表格后再导入。",
    "csv_quotes": "第{row}行的引号没有配对（一格内容跨越了 {limit} 行以上）。请检查文件后再导入。",
    "too_complex": "「{part}」的结构不像是普通的表格（{what}）。请把数据复制到新建的 Excel 文件后再导入。",
    "unreadable": "无法读取文件（{reason}）。请用 Excel 打开后另存为 .xlsx 再导入。",
    "not_xlsx": "不是有效的 .xlsx 文件",
    "damaged": "文件已损坏",
    "sheet": "工作表「{sheet}」",
    "file": "文件",
    "refused": "本次没有导入任何数据。",
}


class SheetError(ValueError):
    """The file is refused before anything is imported; str() is the Chinese message for a secretary."""


# Writing


_RISKY = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(f"'*[{re.escape(_RISKY)}]")
_QUOTED = re.compile(f"'+[{re.escape(_RISKY)}]")


def looks_like_formula(text: str) -> bool:
    return bool(text) and text[0] in _RISKY


def csv_text(text: str) -> str:
    """The text as a .csv field that Excel shows as text: a leading quote where it would start a formula."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def from_csv_text(text: str) -> str:
    """Undo csv_text."""
    return text[1:] if _QUOTED.match(text) else text


def csv_value(value: object) -> str:
    """Any exported value as a .csv field: numbers as written, text through csv_text, None as empty."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return csv_text(str(value))


def set_cell(cell, value: object) -> None:
    """Put a value into an openpyxl cell; text is always a string cell, never a formula or an error code."""
    cell.value = value
    if isinstance(value, str):
        _as_text(cell, value)


def text_cells(ws, values: Iterable[object]) -> list[object]:
    """A row for ws.append() in which every text is a string cell (see set_cell)."""
    from openpyxl.cell.cell import Cell

    row: list[object] = []
    for value in values:
        if isinstance(value, str) and value:
            cell = Cell(ws, value=value)
            _as_text(cell, value)
            row.append(cell)
        else:
            row.append(value)
    return row


def _as_text(cell, value: str) -> None:
    cell.data_type = "s"
    if looks_like_formula(value):
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited


# Reading


@dataclass(frozen=True)
class SheetLimits:
    rows: int = 100_000  # data rows below the header (a county's roster is about 30,000)
    columns: int = 50  # columns with content (the roster has 18)
    cell_chars: int = 2_000  # characters in one cell
    shared_strings: int = 500_000  # entries in an .xlsx's shared-strings table
    file_bytes: int = 50 << 20  # the file as given (.xlsx or .csv)
    data_part_bytes: int = 100 << 20  # one worksheet or the shared strings, unpacked
    other_part_bytes: int = 10 << 20  # any other part of an .xlsx (styles, workbook, images…), unpacked
    total_bytes: int = 200 << 20  # all parts of an .xlsx, unpacked
    parts: int = 10_000  # entries in the zip
    # Structure openpyxl holds in memory while it reads, which no legitimate table comes near.
    row_elements: int = 200_000  # <row> elements in any worksheet, empty ones included
    elements_per_row: int = 65_536  # elements inside one <row> (Excel's 16,384 columns, a few each)
    other_elements: int = 100_000  # elements outside rows, and in each other XML part
    text_run: int = 32_767  # characters of any one text run outside a cell value (Excel's cell maximum)
    token_bytes: int = 1 << 20  # bytes of one XML tag, comment or declaration
    csv_lines_per_row: int = 50  # physical lines of one .csv record (line breaks inside a quoted cell)


LIMITS = SheetLimits()
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384


@dataclass
class Table:
    """Row 1 (the header) and every later row with content, by the row number the user sees."""

    header: list[object]
    rows: list[tuple[int, list[object]]]


def _refuse(key: str, **kw) -> SheetError:
    return SheetError(TEXT[key].format(**kw) + TEXT["refused"])


def _where(sheet: str | None) -> str:
    return TEXT["sheet"].format(sheet=sheet) if sheet else TEXT["file"]


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.0f}" if size >= 1 << 20 else f"{size / (1 << 20):.1f}"


def _column_name(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column) if column <= EXCEL_MAX_COLUMNS else str(column)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _collect(rows: Iterable[tuple[int, Iterable[object]]], limits: SheetLimits, sheet: str | None) -> Table:
    """Keep row 1 and the rows with content, checking columns, cell sizes and the row count as it goes."""
    header: list[object] = []
    kept: list[tuple[int, list[object]]] = []
    for number, raw in rows:
        values = list(raw)
        for column, value in enumerate(values, start=1):
            if isinstance(value, str) and len(value) > limits.cell_chars:
                raise _refuse(
                    "cell_too_long",
                    where=_where(sheet),
                    row=number,
                    column=_column_name(column),
                    limit=limits.cell_chars,
                )
            if column > limits.columns and not _blank(value):
                raise _refuse(
                    "too_many_columns",
                    where=_where(sheet),
                    row=number,
                    column=_column_name(column),
                    limit=limits.columns,
                )
        del values[limits.columns :]
        if number == 1:
            header = values
        elif not all(_blank(v) for v in values):
            if len(kept) >= limits.rows:
                raise _refuse("too_many_rows", where=_where(sheet), limit=limits.rows)
            kept.append((number, values))
    return Table(header, kept)


# .csv


def read_csv(path: Path, *, limits: SheetLimits = LIMITS) -> Table:
    """A .csv in UTF-8 (with or without BOM) or, as Excel on a Chinese Windows saves it, GB18030."""
    path = Path(path)
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise _refuse("file_too_large", size=_mb(size), limit=_mb(limits.file_bytes))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with path.open(encoding=encoding, newline="") as f:
                return _collect(_csv_rows(f, limits), limits, None)
        except UnicodeDecodeError:
            continue
    # gb18030 decodes any byte string, so this is never reached.
    raise SheetError(TEXT["unreadable"].format(reason="无法识别的文字编码"))  # pragma: no cover


def _csv_rows(f: IO[str], limits: SheetLimits) -> Iterator[tuple[int, list[str]]]:
    # csv.reader builds a whole record before we see it: bound the physical lines it may take, in length and
    # in number per record (a quoted cell may hold a few line breaks, not thousands), so a record is small.
    max_line = limits.columns * (limits.cell_chars + 3) + 2
    state = {"lines": 0, "record": 1}

    def lines() -> Iterator[str]:
        while line := f.readline(max_line + 1):
            if len(line) > max_line:
                raise _refuse("line_too_long", row=state["record"], limit=max_line)
            state["lines"] += 1
            if state["lines"] > limits.csv_lines_per_row:
                raise _refuse("csv_quotes", row=state["record"], limit=limits.csv_lines_per_row)
            yield line

    try:
        for number, record in enumerate(csv.reader(lines()), start=1):
            state["lines"], state["record"] = 0, number + 1
            yield number, [from_csv_text(v) for v in record]
    except csv.Error as exc:
        raise SheetError(TEXT["unreadable"].format(reason=exc)) from None


# .xlsx


def read_xlsx(
    source: Path | IO[bytes],
    sheet: str | None = None,
    *,
    otherwise: Literal["first", "active", "none"] = "active",
    limits: SheetLimits = LIMITS,
) -> Table | None:
    """The values of one worksheet: the one named `sheet`, or else (`otherwise`) the first, the active one, or
    None. Refuses (SheetError) a damaged file or one past the limits before anything of it is used."""
    if isinstance(source, str | Path):
        source = Path(source)
        size = source.stat().st_size
    else:
        source.seek(0, io.SEEK_END)
        size = source.tell()
        source.seek(0)
    if size > limits.file_bytes:
        raise _refuse("file_too_large", size=_mb(size), limit=_mb(limits.file_bytes))
    _check_zip_directory_count(source, limits)
    reader = _open(source)
    try:
        _check_package(reader, limits)
        try:
            reader.read()
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
            raise SheetError(TEXT["unreadable"].format(reason=_reason(exc))) from None
        wb = reader.wb
        if sheet is not None and sheet in wb.sheetnames:
            ws = wb[sheet]
        elif otherwise == "none":
            return None
        elif otherwise == "active" and hasattr(wb.active, "reset_dimensions"):  # not a chart sheet
            ws = wb.active
        else:
            ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise SheetError(TEXT["unreadable"].format(reason="没有工作表"))
        # The declared dimension is not trusted: without it openpyxl pads nothing and reads what is there.
        ws.reset_dimensions()
        try:
            return _collect(enumerate(ws.iter_rows(min_row=1, values_only=True), start=1), limits, ws.title)
        except SheetError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise SheetError(TEXT["unreadable"].format(reason=_reason(exc))) from None
    finally:
        reader.archive.close()


def _reason(exc: Exception) -> str:
    cause = exc.__cause__ or exc
    return f"{TEXT['damaged']}：{cause.__class__.__name__}"


def _check_zip_directory_count(source: Path | IO[bytes], limits: SheetLimits) -> None:
    """The number of entries, from the end-of-central-directory record, before zipfile reads the directory."""
    f = source.open("rb") if isinstance(source, Path) else source
    try:
        f.seek(0, io.SEEK_END)
        size = f.tell()
        tail_size = min(size, 22 + 65_535 + 76)
        f.seek(size - tail_size)
        tail = f.read(tail_size)
    finally:
        if isinstance(source, Path):
            f.close()
        else:
            f.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise SheetError(TEXT["unreadable"].format(reason=TEXT["not_xlsx"]))
    entries = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if at >= 76 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        # A ZIP64 locator: zipfile takes the count from the ZIP64 record just before it, whatever the above says.
        entries = struct.unpack("<Q", tail[at - 76 + 32 : at - 76 + 40])[0]
    if entries > limits.parts:
        raise _refuse("too_many_parts", count=entries, limit=limits.parts)


def _open(source: Path | IO[bytes]):
    from openpyxl.reader.excel import ExcelReader

    try:
        # keep_links=False: external links carry cached copies of other workbooks; nothing here needs them.
        return ExcelReader(source, read_only=True, data_only=True, keep_links=False)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError(TEXT["unreadable"].format(reason=TEXT["not_xlsx"])) from exc


def _check_package(reader, limits: SheetLimits) -> None:
    """Sizes from the zip directory, then a streaming pass over every part openpyxl will parse."""
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import _find_workbook_part
    from openpyxl.reader.workbook import WorkbookParser
    from openpyxl.xml.constants import SHARED_STRINGS

    archive: zipfile.ZipFile = reader.archive
    infos = archive.infolist()
    if len(infos) > limits.parts:
        raise _refuse("too_many_parts", count=len(infos), limit=limits.parts)
    total = 0
    for info in infos:
        # zipfile stops at the declared size (and fails the CRC past it), so these sizes hold.
        if info.file_size > limits.data_part_bytes:
            raise _refuse(
                "unpacked_too_large",
                part=info.filename,
                size=_mb(info.file_size),
                limit=_mb(limits.data_part_bytes),
            )
        total += info.file_size
    if total > limits.total_bytes:
        raise _refuse("unpacked_too_large", part="全部", size=_mb(total), limit=_mb(limits.total_bytes))

    def small(name: str) -> None:
        info = archive.getinfo(name)
        if info.file_size > limits.other_part_bytes:
            raise _refuse(
                "unpacked_too_large", part=name, size=_mb(info.file_size), limit=_mb(limits.other_part_bytes)
            )

    scanned: set[str] = set()

    def other(name: str, *, lenient: bool = False) -> None:
        small(name)
        if name not in scanned:
            scanned.add(name)
            _scan_xml(archive, name, _OtherScan(name, limits), limits, lenient=lenient)

    # Find the worksheets and the shared strings exactly as openpyxl will (manifest, workbook, relationships),
    # checking each of those small parts before openpyxl parses it.
    try:
        other("[Content_Types].xml")
        reader.read_manifest()
        workbook_part = _find_workbook_part(reader.package).PartName[1:]
        other(workbook_part)
        relationships = get_rels_path(workbook_part)
        if relationships in reader.valid_files:
            other(relationships)
        parser = WorkbookParser(archive, workbook_part, keep_links=False)
        parser.parse()
        sheets = {
            rel.target: ws.name
            for ws, rel in parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        }
        strings = reader.package.find(SHARED_STRINGS)
        strings_part = strings.PartName[1:] if strings is not None else None
    except SheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged manifest or workbook part
        raise SheetError(TEXT["unreadable"].format(reason=_reason(exc))) from None
    for info in infos:
        name = info.filename
        if name in sheets:
            _scan_xml(archive, name, _SheetScan(sheets[name], limits), limits)
        elif name == strings_part:
            _scan_xml(archive, name, _StringsScan(limits), limits)
        elif _looks_like_xml(archive, name):
            other(name, lenient=True)
        else:
            small(name)


def _looks_like_xml(archive: zipfile.ZipFile, name: str) -> bool:
    with archive.open(name) as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW, _VALUE, _TEXT = (f"{_MAIN} {tag}" for tag in ("row", "v", "t"))
_SHARED_ITEM = f"{_MAIN} si"


class _Scan:
    """expat handlers that count what openpyxl would hold; subclasses say what is too much."""

    def __init__(self, part: str, limits: SheetLimits) -> None:
        self.part = part
        self.limits = limits
        self.run = 0  # characters since the last tag

    def complex(self, what: str) -> SheetError:
        return _refuse("too_complex", part=self.part, what=what)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.run = 0

    def end(self, name: str) -> None:
        self.run = 0

    def text(self, data: str) -> None:
        self.run += len(data)
        if self.run > self.limits.text_run:
            raise self.complex("单段文字过长")


class _OtherScan(_Scan):
    def __init__(self, part: str, limits: SheetLimits) -> None:
        super().__init__(part, limits)
        self.elements = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.run = 0
        self.elements += 1
        if self.elements > self.limits.other_elements:
            raise self.complex(f"超过 {self.limits.other_elements} 个元素")

    def text(self, data: str) -> None:
        pass  # bounded by the part's size (other_part_bytes)


class _StringsScan(_Scan):
    def __init__(self, limits: SheetLimits) -> None:
        super().__init__("sharedStrings", limits)
        self.stack: list[str] = []
        self.items = 0
        self.outside = 0
        self.item_depth = 0  # depth of the open <si>, 0 when outside one
        self.item_elements = 0
        self.item_chars = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.run = 0
        self.stack.append(name)
        if self.item_depth:
            self.item_elements += 1
            if self.item_elements > 10_000:
                raise self.complex("单项文字的格式过多")
        elif name == _SHARED_ITEM:
            self.items += 1
            if self.items > self.limits.shared_strings:
                raise _refuse("too_many_strings", limit=self.limits.shared_strings)
            self.item_depth, self.item_elements, self.item_chars = len(self.stack), 0, 0
        else:
            self.outside += 1
            if self.outside > self.limits.other_elements:
                raise self.complex(f"超过 {self.limits.other_elements} 个元素")

    def end(self, name: str) -> None:
        self.run = 0
        if self.item_depth == len(self.stack):
            self.item_depth = 0
        self.stack.pop()

    def text(self, data: str) -> None:
        if self.item_depth and self.stack[-1] == _TEXT:
            self.item_chars += len(data)
            if self.item_chars > self.limits.cell_chars:
                raise _refuse("string_too_long", limit=self.limits.cell_chars)
        else:
            super().text(data)


class _SheetScan(_Scan):
    """Every worksheet, read or not (openpyxl looks into each one when it opens the file): its structure and
    the size of each cell. How many rows and columns hold data is counted when the chosen sheet is read."""

    def __init__(self, sheet: str, limits: SheetLimits) -> None:
        super().__init__(sheet, limits)
        self.sheet = sheet
        self.depth = 0
        self.row_depth = 0  # depth of the open <row>, 0 when outside one
        self.cell_depth = 0
        self.in_value = False
        self.rows = 0  # <row> elements
        self.row = 0  # the current row's number, as openpyxl counts it
        self.row_elements = 0
        self.column = 0
        self.cell_chars = 0
        self.outside = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.run = 0
        self.depth += 1
        limits = self.limits
        if self.row_depth:
            self.row_elements += 1
            if self.row_elements > limits.elements_per_row:
                raise self.complex(f"第{self.row}行超过 {limits.elements_per_row} 个元素")
            if self.depth == self.row_depth + 1:  # openpyxl takes every child of a row for a cell
                self.cell_depth = self.depth
                self.cell_chars = 0
                ref = attrs.get("r")
                self.column = _column_of(ref, self) if ref else self.column + 1
                if self.column > EXCEL_MAX_COLUMNS:
                    raise self.complex(f"第{self.row}行超过 {EXCEL_MAX_COLUMNS} 列")
            elif self.cell_depth and name in (_VALUE, _TEXT):
                self.in_value = True
        elif name == _ROW:
            self.rows += 1
            if self.rows > limits.row_elements:  # empty rows too: openpyxl keeps a trace of each
                raise _refuse("too_many_rows", where=_where(self.sheet), limit=limits.rows)
            ref = attrs.get("r")
            try:
                self.row = int(float(ref)) if ref else self.row + 1
            except ValueError:
                raise self.complex("行号无效") from None
            if not 0 < self.row <= EXCEL_MAX_ROWS:
                raise self.complex("行号超出 Excel 的范围")
            self.row_depth, self.row_elements, self.column = self.depth, 0, 0
        else:
            self.outside += 1
            if self.outside > limits.other_elements:
                raise self.complex(f"表格外超过 {limits.other_elements} 个元素")

    def end(self, name: str) -> None:
        self.run = 0
        if self.in_value and name in (_VALUE, _TEXT):
            self.in_value = False
        if self.depth == self.cell_depth:
            self.cell_depth = 0
        elif self.depth == self.row_depth:
            self.row_depth = 0
        self.depth -= 1

    def text(self, data: str) -> None:
        if self.in_value:
            self.cell_chars += len(data)
            if self.cell_chars > self.limits.cell_chars:
                raise _refuse(
                    "cell_too_long",
                    where=_where(self.sheet),
                    row=self.row,
                    column=_column_name(self.column),
                    limit=self.limits.cell_chars,
                )
        else:
            super().text(data)


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?\d+$")


def _column_of(ref: str, scan: _Scan) -> int:
    from openpyxl.utils import column_index_from_string

    m = _REF.match(ref)
    if not m:
        raise scan.complex(f"单元格地址「{ref[:20]}」无效")
    return column_index_from_string(m[1].upper())


def _scan_xml(
    archive: zipfile.ZipFile, name: str, scan: _Scan, limits: SheetLimits, *, lenient: bool = False
) -> None:
    """Stream one part through expat with the scan's handlers; memory stays at one chunk.

    lenient: a part that is not well-formed XML is left to openpyxl (which ignores most parts in read-only
    mode) instead of being refused here; what was counted before the error still counts."""
    import pyexpat

    parser = pyexpat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True  # fewer calls; text still comes in pieces of at most buffer_size

    def no_doctype(*_args):
        # No part of an .xlsx has a DTD; entities are how a small XML file expands into a large one.
        raise scan.complex("含有 DTD")

    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    fed = 0
    try:
        with archive.open(name) as f:
            while chunk := f.read(1 << 16):
                parser.Parse(chunk, False)
                fed += len(chunk)
                # Between calls expat stops at the start of an unfinished token, which it buffers whole
                # (a huge attribute, a comment): bound that too.
                if fed - parser.CurrentByteIndex > limits.token_bytes:
                    raise scan.complex("单个标记过长")
            parser.Parse(b"", True)
    except SheetError:
        raise
    except pyexpat.ExpatError as exc:
        if lenient:
            return
        raise SheetError(TEXT["unreadable"].format(reason=f"{TEXT['damaged']}：{name} {exc}")) from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise SheetError(TEXT["unreadable"].format(reason=f"{TEXT['damaged']}：{name}")) from None
