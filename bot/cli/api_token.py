"""zhibu api-token: bearer tokens for the JSON API (/api/v1): create, list, revoke."""

from __future__ import annotations

from datetime import datetime

import typer

from bot.cli.common import database, echo, fail, settings
from config import Settings
from models.api_token import (
    ApiToken,
    ScopeError,
    issue_token,
    list_tokens,
    resolve_scope,
    revoke,
)
from models.base import utcnow
from models.db import unit_of_work
from models.org import UNIT_KIND_LABELS

# Every sentence this command shows, in one place.
TEXT = {
    "help": "JSON 接口（/api/v1）的访问令牌：创建、查看、吊销。",
    "scope_syntax": (
        "范围“{scope}”的写法不对。可用：all（全部组织）、committee:党委名称、branch:支部名称，"
        "支部重名时用 branch:上级组织名称/支部名称。"
    ),
    "scope_unknown": "没有找到范围“{scope}”所指的组织。请检查名称（要与花名册中的组织全称一致）。",
    "scope_ambiguous": "范围“{scope}”对应多个组织：{names}。请用 branch:上级组织名称/支部名称 指定是哪一个。",
    "name_empty": "令牌名称不能为空，请用 --name 写明用途，例如 --name 区委组织部报表。",
    "created": "已创建令牌 #{id}（{name}，范围：{scope}，权限：{access}）。",
    "shown_once": "下面是令牌本身，只显示这一次，请立即妥善保存；系统里只保存它的摘要，丢失后只能重新创建：",
    "usage": "调用接口时放在请求头里：Authorization: Bearer <令牌>",
    "none": "还没有任何令牌。用 zhibu api-token create --name 名称 --scope 范围 创建。",
    "header": "编号  状态    名称  范围  权限  创建时间  最近使用",
    "row": "#{id}  {status}  {name}  {scope}  {access}  {created}  {used}",
    "access_read": "只读",
    "access_write": "读写",
    "write_help": "允许修改数据（安排、调整、取消会议，分配观察员）；不加则只能查询。",
    "status_active": "有效",
    "status_revoked": "已吊销",
    "never": "从未使用",
    "scope_all": "全部组织",
    "no_such_token": "没有编号为 {id} 的令牌。用 zhibu api-token list 查看现有令牌。",
    "already_revoked": "令牌 #{id}（{name}）早已于 {when} 吊销。",
    "revoked": "令牌 #{id}（{name}）已吊销，此后使用它的请求都会被拒绝。",
}

app = typer.Typer(help=TEXT["help"], no_args_is_help=True)


def _scope_label(token: ApiToken) -> str:
    unit = token.scope_unit
    if unit is None:
        return TEXT["scope_all"]
    return f"{UNIT_KIND_LABELS[unit.kind]} {unit.name}"


def _access_label(token: ApiToken) -> str:
    return TEXT["access_write"] if token.can_write else TEXT["access_read"]


def _when(value: datetime | None, s: Settings) -> str:
    return value.astimezone(s.tz).strftime("%Y-%m-%d %H:%M") if value else TEXT["never"]


def _scope_error_text(exc: ScopeError) -> str:
    if exc.reason == "syntax":
        return TEXT["scope_syntax"].format(scope=exc.scope)
    if exc.reason == "unknown":
        return TEXT["scope_unknown"].format(scope=exc.scope)
    names = "、".join(
        f"{c.parent_name + '/' if c.parent_name else ''}{c.name}（编号 {c.id}）" for c in exc.candidates
    )
    return TEXT["scope_ambiguous"].format(scope=exc.scope, names=names)


@app.command("create")
def create_cmd(
    name: str = typer.Option(..., "--name", help="令牌的用途，例如“区委组织部报表”。"),
    scope: str = typer.Option(
        ...,
        "--scope",
        help="能看到的范围：all、committee:党委名称、branch:支部名称（重名时 branch:上级名称/支部名称）。",
    ),
    write: bool = typer.Option(False, "--write", help=TEXT["write_help"]),
) -> None:
    """创建一个令牌并只显示一次；系统只保存它的摘要。默认只读，加 --write 才能修改数据。"""
    if not name.strip():
        fail(TEXT["name_empty"])
    s = settings()
    _, session_factory = database(s)
    try:
        with unit_of_work(session_factory) as session:
            unit = resolve_scope(session, scope)
            token, plain = issue_token(
                session, name=name.strip(), scope_unit=unit, now=utcnow(), can_write=write
            )
            label, access = _scope_label(token), _access_label(token)
            token_id = token.id
    except ScopeError as exc:
        fail(_scope_error_text(exc))
    echo(TEXT["created"].format(id=token_id, name=name.strip(), scope=label, access=access))
    echo(TEXT["shown_once"])
    echo(plain)
    echo(TEXT["usage"])


@app.command("list")
def list_cmd() -> None:
    """列出所有令牌（不显示令牌本身）。"""
    s = settings()
    _, session_factory = database(s)
    with unit_of_work(session_factory) as session:
        tokens = list_tokens(session)
        if not tokens:
            echo(TEXT["none"])
            return
        echo(TEXT["header"])
        for t in tokens:
            echo(
                TEXT["row"].format(
                    id=t.id,
                    status=TEXT["status_active"] if t.active else TEXT["status_revoked"],
                    name=t.name,
                    scope=_scope_label(t),
                    access=_access_label(t),
                    created=_when(t.created_at, s),
                    used=_when(t.last_used_at, s),
                )
            )


@app.command("revoke")
def revoke_cmd(token_id: int = typer.Argument(..., help="令牌编号（见 zhibu api-token list）。")) -> None:
    """吊销一个令牌：立即生效，不可恢复。"""
    s = settings()
    _, session_factory = database(s)
    now = utcnow()
    with unit_of_work(session_factory) as session:
        token = revoke(session, token_id, now=now)
        if token is None:
            fail(TEXT["no_such_token"].format(id=token_id))
        if token.revoked_at != now:
            echo(
                TEXT["already_revoked"].format(id=token.id, name=token.name, when=_when(token.revoked_at, s))
            )
            return
        echo(TEXT["revoked"].format(id=token.id, name=token.name))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="api-token")
