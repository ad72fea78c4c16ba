"""Bulk recording of payments from an .xlsx with Chinese headers, in the roster's style.

All or nothing: every row is checked (and tried inside a savepoint); when any row is wrong the
savepoint is rolled back and every problem is reported by row number and column.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common import cells
from handlers.fees.months import parse_month_cell
from handlers.fees.payments import record_payment, require_collector
from handlers.fees.policy import Policy, local_month
from handlers.phones import normalize_phone
from handlers.spreadsheets import SheetError, read_xlsx
from models.fees import PaymentMethod
from models.org import ChatAccount, OrgUnit, Person, Platform

COL_NAME = "姓名"
COL_PHONE = "手机号"
COL_DINGTALK = "钉钉userId"
COL_WECOM = "企业微信userid"
COL_MONTH = "所属月份"
COL_AMOUNT = "金额"
COL_PAID_ON = "交纳日期"
COL_PROXY = "代交人"
HEADERS = (COL_NAME, COL_PHONE, COL_DINGTALK, COL_WECOM, COL_MONTH, COL_AMOUNT, COL_PAID_ON, COL_PROXY)
_HEADER_KEYS = {h.lower(): h for h in HEADERS} | {
    "钉钉userid": COL_DINGTALK,
    "手机": COL_PHONE,
    "月份": COL_MONTH,
}


class FeeImportError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    recorded: int
    proxied: int


def _header(value) -> str:
    # Headers are keys, not names: full-width letters typed with an IME (钉钉ＵｓｅｒＩｄ) still match.
    return unicodedata.normalize("NFKC", cells.text(value)).lower()


def _paid_at(value, current: datetime, tz: ZoneInfo) -> datetime:
    """When the payment was made: a date-and-time cell as it is (local), a day at noon local, or
    `current` when the cell is empty. CellError for anything else."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        return local.astimezone(UTC)
    day = cells.day(value)
    if day is None:
        return current
    return datetime.combine(day, time(12), tz).astimezone(UTC)


def record_payments_from_xlsx(
    session: Session,
    file: BinaryIO,
    *,
    branch: OrgUnit,
    now: datetime,
    recorded_by: Person | None = None,
    tz: ZoneInfo,
    default: Policy | None = None,
) -> ImportResult:
    """Record every row of the sheet as a payment of a member of `branch` (method 批量导入).

    `tz`: the organisation's zone (settings.timezone), in which the sheet's dates and times are read;
    `default`: default_policy(core), the policy of a branch without one.

    `recorded_by` is the collector or 书记 doing it from chat or the web (role-checked); None means
    an administrator at the command line. Raises FeeImportError listing every bad row.
    """
    if recorded_by is not None:
        try:
            require_collector(session, recorded_by, branch.id, "批量登记党费")
        except Refused as exc:
            raise FeeImportError([str(exc)]) from None
    try:
        # Bounded: a small file declaring a huge sheet is refused before it is read (handlers.spreadsheets).
        table = read_xlsx(file)
    except SheetError as exc:
        raise FeeImportError([str(exc)]) from None
    if not table.header and not table.rows:
        raise FeeImportError(
            ["文件是空的：第1行应为表头（姓名、手机号、所属月份、金额、交纳日期、代交人）。"]
        )
    columns: dict[str, int] = {}
    for i, header in enumerate(table.header):
        key = _HEADER_KEYS.get(_header(header))
        if key:
            columns.setdefault(key, i)
    missing = [h for h in (COL_NAME, COL_MONTH) if h not in columns]
    if missing:
        raise FeeImportError([f"第1行 缺少表头：{'、'.join(missing)}"])
    if not {COL_PHONE, COL_DINGTALK, COL_WECOM} & columns.keys():
        raise FeeImportError(["第1行 缺少表头：手机号、钉钉userId 或 企业微信userid 至少要有一列"])

    members = list(session.scalars(select(Person).where(Person.branch_id == branch.id)))
    # Keyed by the one canonical form (handlers.phones), as the roster import matches people, so a
    # number typed 138-0000-0003 or +86 138 0000 0003 finds the member stored as 13800000003.
    by_phone = {normalize_phone(p.phone) or p.phone: p for p in members if p.phone}
    by_id = {p.id: p for p in members}
    by_name: dict[str, list[Person]] = {}
    for p in members:
        by_name.setdefault(p.name, []).append(p)
    accounts = {
        (platform, account): person_id
        for platform, account, person_id in session.execute(
            select(ChatAccount.platform, ChatAccount.account_id, ChatAccount.person_id).where(
                ChatAccount.person_id.in_(list(by_id) or [-1])
            )
        )
    }

    def cell(row, column):
        i = columns.get(column)
        return row[i] if i is not None and i < len(row) else None

    current = local_month(now, tz)
    errors: list[str] = []
    seen: dict[tuple[int, date], int] = {}
    recorded = proxied = 0
    savepoint = session.begin_nested()
    try:
        for number, row in table.rows:
            if all(cells.is_blank(v) for v in row):
                continue
            where = f"第{number}行"
            row_errors: list[str] = []
            name = cells.text(cell(row, COL_NAME))
            phone_cell = cell(row, COL_PHONE)
            phone_text = cells.text(phone_cell)
            ding = cells.text(cell(row, COL_DINGTALK))
            wecom = cells.text(cell(row, COL_WECOM))
            person = None
            if phone_text:
                try:
                    phone = cells.phone(phone_cell)
                except cells.CellError:
                    phone = None
                person = by_phone.get(phone) if phone else None
                if phone is None:
                    row_errors.append(
                        f"{where} 手机号：“{phone_text}”不是有效的手机号，应为 11 位数字、以 1 开头"
                    )
                elif person is None:
                    row_errors.append(f"{where} 手机号：“{phone_text}”不是{branch.name}的党员")
            elif ding:
                person = by_id.get(accounts.get((Platform.DINGTALK, ding), -1))
                if person is None:
                    row_errors.append(f"{where} 钉钉userId：“{ding}”不是{branch.name}的党员")
            elif wecom:
                person = by_id.get(accounts.get((Platform.WECOM, wecom), -1))
                if person is None:
                    row_errors.append(f"{where} 企业微信userid：“{wecom}”不是{branch.name}的党员")
            else:
                row_errors.append(f"{where} 手机号：手机号、钉钉userId、企业微信userid 至少填一项")
            if person is not None and name and person.name != name:
                row_errors.append(f"{where} 姓名：“{name}”与名册中的“{person.name}”不一致")
            month = None
            try:
                raw = cell(row, COL_MONTH)
                if cells.is_blank(raw):
                    raise Refused("所属月份不能为空，请写成“2026年11月”")
                month = parse_month_cell(raw, current)
            except Refused as exc:
                row_errors.append(f"{where} 所属月份：{exc}")
            amount = None
            try:
                amount = cells.amount(cell(row, COL_AMOUNT), positive=True)
            except ValueError:
                row_errors.append(
                    f"{where} 金额：“{cells.text(cell(row, COL_AMOUNT))}”不是大于 0 的金额（元，最多两位小数）"
                )
            paid_at = now
            try:
                paid_at = _paid_at(cell(row, COL_PAID_ON), now, tz)
            except ValueError:
                row_errors.append(
                    f"{where} 交纳日期：“{cells.text(cell(row, COL_PAID_ON))}”不是日期，请写成“2026-11-06”"
                )
            proxy_name = cells.text(cell(row, COL_PROXY))
            proxy = None
            if proxy_name and person is not None and proxy_name != person.name:
                same = by_name.get(proxy_name, [])
                proxy = same[0] if len(same) == 1 else None
            if person is not None and month is not None:
                key = (person.id, month)
                if key in seen:
                    row_errors.append(f"{where} 所属月份：与第{seen[key]}行重复（同一人同一月份）")
                else:
                    seen[key] = number
            if row_errors:
                errors.extend(row_errors)
                continue
            try:
                record_payment(
                    session,
                    recorded_by,
                    person,
                    month,
                    now,
                    tz=tz,
                    default=default,
                    amount=amount,
                    paid_at=paid_at,
                    paid_by=proxy,
                    paid_by_name=proxy_name if proxy_name and proxy_name != person.name else None,
                    method=PaymentMethod.BULK_IMPORT,
                    check_role=False,  # checked once above
                )
            except Refused as exc:
                errors.append(f"{where} {COL_MONTH}：{exc}")
                continue
            recorded += 1
            if proxy_name and proxy_name != person.name:
                proxied += 1
        if not errors and recorded == 0:
            errors.append("文件中没有数据行。")
    except Exception:
        savepoint.rollback()
        raise
    if errors:
        savepoint.rollback()
        raise FeeImportError(errors)
    savepoint.commit()
    return ImportResult(recorded, proxied)
