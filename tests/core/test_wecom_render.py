"""What a WeCom client shows (issue #15, also seen): a card's markdown renders or is plain text, never raw
marks, and a card links only where it has a link of its own. Through the sandbox playing WeCom."""

from __future__ import annotations

from bot.core.messages import Button, Card, Markdown
from bot.core.router import Router
from bot.platforms.wecom.render import MARKDOWN_MAX_BYTES, body, plain_text
from tests.core.e2e import running_bot
from tests.core.helpers import make_org

DIGEST_TEXT = "**第一党支部** 本月得分 **92**\n- 三会一课：已按时召开\n- 党费：全部缴纳"


def _cards_router() -> Router:
    router = Router("wecom-cards")

    @router.command("通报演示")
    def digest(ctx, _args):
        ctx.reply(
            Card(
                "2026年3月组织生活通报",
                DIGEST_TEXT,
                fields=(("排名", "第1名"),),
                buttons=(Button("查看详情", url="/h5/monthly/7/2026-03"),),
                image_url="/h5/monthly/chart.png",
            )
        )

    @router.command("提醒演示")
    def reminder(ctx, _args):
        ctx.reply(Card("会议提醒", "明天 **9:00** 召开支部党员大会"))

    @router.command("审批演示")
    def approval(ctx, _args):
        ctx.reply(
            Card(
                "请假申请",
                "**党员0** 申请请假",
                buttons=(Button("批准", action="x.approve", params={"id": "1"}),),
                card_key="leave:1",
            )
        )

    return router


def _sent(bot) -> list[dict]:
    return [m for m in bot.sb.outbox(platform="wecom") if "WangShuJi" in m.get("to", [])]


def test_cards_render_their_markdown_and_link_only_to_their_own_pages(session_factory, database_url):
    make_org(session_factory)
    with running_bot(session_factory, database_url, routers=[_cards_router()]) as bot:
        for command in ("通报演示", "提醒演示", "审批演示"):
            assert bot.sb.deliver_wecom("WangShuJi", command)["delivered"]
        bot.drain()
        digest, reminder, approval = _sent(bot)
    # A card with nothing to press goes as a markdown message, which WeCom renders.
    assert digest["msgtype"] == "markdown" and digest["markdown"]
    assert digest["text"].startswith("**2026年3月组织生活通报**\n" + DIGEST_TEXT)
    assert "排名：第1名" in digest["text"]
    assert f"[查看详情]({bot.url}/h5/monthly/7/2026-03)" in digest["text"]
    assert f"[查看图片]({bot.url}/h5/monthly/chart.png)" in digest["text"]
    # Without a link of its own it links nowhere (it used to open the bot's root, a 404).
    assert reminder["msgtype"] == "markdown" and "](" not in reminder["text"]
    assert not reminder.get("buttons") and not reminder.get("link")
    # A card with buttons is a template card, whose texts WeCom shows as plain text: no marks left.
    assert approval["msgtype"] == "template_card" and not approval["markdown"]
    assert approval["text"] == "党员0 申请请假" and not approval.get("link")


def test_plain_text_keeps_the_words_and_drops_the_marks():
    assert plain_text(DIGEST_TEXT) == "第一党支部 本月得分 92\n· 三会一课：已按时召开\n· 党费：全部缴纳"
    assert plain_text("# 标题\n\n详见[会议页面](http://x/1)，`#12`") == "标题\n详见会议页面，#12"


def test_a_long_message_is_cut_in_its_text_and_keeps_its_title_and_link():
    text = "\n".join(f"第{i}党支部：本月已召开支部党员大会，党费全部缴纳" for i in range(200))
    for message in (
        Card("通报", text, buttons=(Button("查看详情", url="/h5/m"),)),
        Markdown("通报", text),
    ):
        content = body(message, task_id="t", base_url="http://bot")["markdown"]["content"]
        assert len(content.encode()) <= MARKDOWN_MAX_BYTES
        assert content.startswith("**通报**\n第0党支部") and "……" in content
    assert content.endswith("……")
    card = body(
        Card("通报", text, buttons=(Button("查看详情", url="/h5/m"),)), task_id="t", base_url="http://bot"
    )
    assert card["markdown"]["content"].endswith("……\n[查看详情](http://bot/h5/m)")
