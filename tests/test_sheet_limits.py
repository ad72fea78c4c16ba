"""Resource bombs in spreadsheets (issue #12, point 9): small files that declare or unpack into huge tables are
refused with a Chinese message before anything is imported, and reading them keeps memory bounded."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from handlers.fees.importer import FeeImportError, record_payments_from_xlsx
from handlers.observers.importer import read_sheet
from handlers.roster import RosterFileError, read_roster, write_roster
from handlers.spreadsheets import LIMITS, SheetError, SheetLimits, read_csv, read_xlsx
from models.fees import FeePayment
from tests.fees.conftest import NOW, TZ
from tests.fees.conftest import org as org  # noqa: F401 - a fixture, used by name
from tests.test_roster import FILLED, cli, counts
from tests.test_roster import cli_db as cli_db  # noqa: F401 - a fixture, used by name

ROOT = Path(__file__).resolve().parents[1]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
Part = bytes | Callable[[IO[bytes]], None]


def roster(tmp_path: Path, name: str = "roster.xlsx") -> Path:
    path = tmp_path / name
    write_roster(path, FILLED[:3])  # the roster sheet (sheet1) and the 说明 sheet (sheet2)
    return path


def rebuild(src: Path, dst: Path, parts: dict[str, Part], *, shared_strings: bool = False) -> Path:
    """A copy of src with some parts replaced or added; large parts are streamed, never held whole."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in parts:
                continue
            data = zin.read(info)
            if shared_strings and info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/></Types>'.encode(),
                )
            zout.writestr(info.filename, data)
        for name, part in parts.items():
            with zout.open(name, "w") as f:
                if callable(part):
                    part(f)
                else:
                    f.write(part)
    return dst


def sheet(rows: Callable[[IO[bytes]], None], *, dimension: str = "A1:A1", after: bytes = b"") -> Part:
    def write(f: IO[bytes]) -> None:
        f.write(f'<worksheet {NS}><dimension ref="{dimension}"/><sheetData>'.encode())
        rows(f)
        f.write(b"</sheetData>" + after + b"</worksheet>")

    return write


def repeat(piece: bytes, times: int) -> Callable[[IO[bytes]], None]:
    def write(f: IO[bytes]) -> None:
        block = piece * max(1, (1 << 20) // len(piece))
        per = (1 << 20) // len(piece) or 1
        done = 0
        while done + per <= times:
            f.write(block)
            done += per
        if times > done:
            f.write(piece * (times - done))

    return write


def strings(*, text: Callable[[IO[bytes]], None] | None = None, items: int = 0) -> Part:
    def write(f: IO[bytes]) -> None:
        f.write(f"<sst {NS}>".encode())
        if text:
            f.write(b"<si><t>")
            text(f)
            f.write(b"</t></si>")
        repeat(b"<si><t>a</t></si>", items)(f)
        f.write(b"</sst>")

    return write


def bombs(tmp_path: Path) -> dict[str, tuple[Path, str | None]]:
    """name → (file, a fragment of the refusal, or None when the file is fine to read)."""
    base = roster(tmp_path)
    with zipfile.ZipFile(base) as z:
        sheet1 = z.read("xl/worksheets/sheet1.xml")
    inline = b'<c t="inlineStr"><is><t>x</t></is></c>'
    out: dict[str, tuple[Path, str | None]] = {}

    def make(name: str, parts: dict[str, Part], expect: str | None, **kw) -> None:
        out[name] = (rebuild(base, tmp_path / f"{name}.xlsx", parts, **kw), expect)

    # The file: a sheet declaring A1:XFD20000, with an empty formatted cell in that corner, which made
    # openpyxl pad every row up to it to 16,384 columns. Nothing in it is refused: it is read as it is.
    # The dimension as openpyxl wrote it (with or without a space before "/>", by its XML writer).
    declared = re.sub(rb'<dimension ref="A1:R4"\s*/>', b'<dimension ref="A1:XFD20000" />', sheet1).replace(
        b"</sheetData>", b'<row r="20000"><c r="XFD20000" s="1"/></row></sheetData>'
    )
    assert declared.count(b"XFD20000") == 2
    make("declared_dimension", {"xl/worksheets/sheet1.xml": declared}, None)

    def far(f: IO[bytes]) -> None:
        for n in range(1, 20_001):
            f.write(f'<row r="{n}"><c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c></row>'.encode())

    make("far_columns", {"xl/worksheets/sheet1.xml": sheet(far, dimension="A1:XFD20000")}, "超出了 50 列")
    make(
        "million_rows",
        {"xl/worksheets/sheet1.xml": sheet(repeat(b"<row>" + inline + b"</row>", 1_000_000))},
        "超过 100000 行数据",
    )
    make(
        "empty_rows", {"xl/worksheets/sheet1.xml": sheet(repeat(b"<row/>", 5_000_000))}, "超过 100000 行数据"
    )

    def wide(f: IO[bytes]) -> None:
        f.write(b"<row>")
        repeat(b"<c/>", 3_000_000)(f)
        f.write(b"</row>")

    make("wide_row", {"xl/worksheets/sheet1.xml": sheet(wide)}, "第1行超过 16384 列")
    make(
        "outside_rows",
        {"xl/worksheets/sheet1.xml": sheet(lambda f: None, after=b"<x/>" * 2_000_000)},
        "表格外超过",
    )
    make(
        "huge_shared_string",  # the second file: 300 MB in one shared string, 0.3 MB zipped
        {"xl/sharedStrings.xml": strings(text=repeat(b"A" * 1024, 300 * 1024))},
        "解压后太大",
        shared_strings=True,
    )
    make(
        "long_shared_string",  # under the size limit, so it takes the streaming check to refuse it
        {"xl/sharedStrings.xml": strings(text=repeat(b"A" * 1024, 60 * 1024))},
        "超过 2000 个字",
        shared_strings=True,
    )
    make(
        "many_shared_strings",
        {"xl/sharedStrings.xml": strings(items=2_000_000)},
        "文字超过 500000 项",
        shared_strings=True,
    )
    long_cell = b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + b"x" * 5000 + b"</t></is></c></row>"
    make(
        "long_cell",
        {"xl/worksheets/sheet2.xml": sheet(lambda f: f.write(long_cell))},
        "第1行第 A 列的内容超过 2000 个字",
    )

    def long_attribute(f: IO[bytes]) -> None:
        f.write(b'<row r="1" x="')
        repeat(b"y" * 1024, 50 * 1024)(f)
        f.write(b'"/>')

    make("long_attribute", {"xl/worksheets/sheet1.xml": sheet(long_attribute)}, "单个标记过长")
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + sheet1[sheet1.index(b"<worksheet") :]
    )
    make("entities", {"xl/worksheets/sheet1.xml": laughs}, "含有 DTD")

    def styles(f: IO[bytes]) -> None:
        f.write(f'<styleSheet {NS}><cellXfs count="300000">'.encode())
        repeat(b"<xf/>", 300_000)(f)  # 1.5 MB, under the size limit: it takes the count to refuse it
        f.write(b"</cellXfs></styleSheet>")

    make("styles", {"xl/styles.xml": styles}, "超过 100000 个元素")
    many = tmp_path / "many_parts.xlsx"
    rebuild(base, many, {f"xl/media/{i}.bin": b"" for i in range(LIMITS.parts + 1)})
    out["many_parts"] = (many, "对象太多")
    return out


@pytest.fixture(scope="module")
def bomb_files(tmp_path_factory) -> dict[str, tuple[Path, str | None]]:
    return bombs(tmp_path_factory.mktemp("bombs"))


MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from handlers.roster import RosterFileError, read_roster

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux reports KB)

    read_roster(sys.argv[1])  # warm up: every import and cache the reader needs
    vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) * 1024
    limit = vm + (1536 << 20)  # whatever happens, this process cannot take the machine down
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    base, out = peak(), []
    for path in sys.argv[2:]:
        rows = None
        try:
            rows = [r.number for r in read_roster(path)[1]]
            message = None
        except RosterFileError as exc:
            message = str(exc)
        except MemoryError:
            message = "MemoryError"
        out.append({"file": path, "message": message, "rows": rows, "growth_mb": round(peak() - base, 1)})
    print(json.dumps(out, ensure_ascii=False))
    """
)


def test_bombs_are_refused_with_a_chinese_message_and_bounded_memory(bomb_files, tmp_path):
    files = dict(bomb_files)
    warm = roster(tmp_path, "warm.xlsx")
    csv_line = tmp_path / "one_line.csv"
    csv_line.write_text("姓名," + "," * 5_000_000 + "\n", encoding="utf-8")
    files["csv_line"] = (csv_line, "太长")
    names = list(files)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(warm), *(str(files[n][0]) for n in names)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    for name, got in zip(names, report, strict=True):
        path, expect = files[name]
        if path.suffix == ".xlsx":
            assert path.stat().st_size < 2 << 20, name  # each bomb is a small file
        if expect is None:
            assert got["message"] is None and got["rows"] == [2, 3, 4], (name, got)  # read as it is
        else:
            assert got["message"] and expect in got["message"], (name, got)
            assert "本次没有导入任何数据" in got["message"], (name, got)
        # Peak memory over the baseline, cumulative over the files read so far (the old reader: 2.6 GB).
        assert got["growth_mb"] < 80, (name, report)


def test_a_refused_roster_imports_nothing(cli_db, bomb_files):
    env, factory = cli_db
    for name in ("far_columns", "huge_shared_string", "long_cell"):
        path, expect = bomb_files[name]
        result = cli(env, "import", str(path))
        assert result.exit_code != 0 and expect in result.output, (name, result.output)
    with factory() as s:
        assert counts(s) == dict.fromkeys(counts(s), 0)


def test_the_fee_import_refuses_a_bomb_and_records_nothing(session, org, bomb_files):
    for name in ("far_columns", "huge_shared_string", "many_parts"):
        path, expect = bomb_files[name]
        with path.open("rb") as fh, pytest.raises(FeeImportError) as exc:
            record_payments_from_xlsx(session, fh, branch=org.branch, now=NOW, tz=TZ)
        assert expect in exc.value.errors[0] and "本次没有导入任何数据" in exc.value.errors[0]
    assert session.scalar(select(func.count()).select_from(FeePayment)) == 0


def test_the_observer_sheet_is_read_under_the_same_limits(tmp_path):
    from openpyxl import load_workbook

    path = roster(tmp_path)
    wb = load_workbook(path)
    ws = wb.create_sheet("观察员分工")
    ws.append(["观察员姓名", "手机号", "党支部"])
    ws.append(["胡晓燕", "x" * (LIMITS.cell_chars + 1), "东风村党支部"])
    wb.save(path)
    with pytest.raises(ValueError, match="工作表「观察员分工」第2行第 B 列的内容超过 2000 个字"):
        read_sheet(path)
    with pytest.raises(
        RosterFileError, match="观察员分工"
    ):  # the roster import reads every sheet's size first
        read_roster(path)


def test_limits_are_counted_in_rows_columns_and_characters(tmp_path):
    path = roster(tmp_path)
    with pytest.raises(SheetError, match="第1行第 F 列有内容，超出了 5 列"):
        read_xlsx(path, "花名册", limits=SheetLimits(columns=5))
    with pytest.raises(SheetError, match="超过 2 行数据"):
        read_xlsx(path, "花名册", limits=SheetLimits(rows=2))
    with pytest.raises(SheetError, match="工作表「花名册」第1行第 A 列的内容超过 1 个字"):
        read_xlsx(path, "花名册", limits=SheetLimits(cell_chars=1))
    assert len(read_xlsx(path, "花名册", limits=SheetLimits(rows=3)).rows) == 3
    assert read_xlsx(path, "观察员分工", otherwise="none") is None


def test_csv_limits(tmp_path):
    path = tmp_path / "r.csv"
    write_roster(path, FILLED)
    assert len(read_roster(path)[1]) == len(FILLED)
    with pytest.raises(SheetError, match="超过 5 行数据"):
        read_csv(path, limits=SheetLimits(rows=5))
    with pytest.raises(SheetError, match="第1行第 F 列有内容"):
        read_csv(path, limits=SheetLimits(columns=5))
    quotes = tmp_path / "q.csv"
    quotes.write_text('姓名,手机号\n"王' + "\n" * 200 + "\n", encoding="utf-8")
    with pytest.raises(RosterFileError, match="第2行的引号没有配对"):
        read_roster(quotes)
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as f:
        f.write("姓名\n")
        for _ in range(LIMITS.rows + 1):
            f.write("王\n")
    with pytest.raises(RosterFileError, match="超过 100000 行数据"):
        read_roster(big)
