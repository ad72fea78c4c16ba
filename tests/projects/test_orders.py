"""督办单 through the chat dispatcher: issued by the committee for a late milestone, reported done by the
secretary, sent back once, reported again and confirmed from the card; another past its date; the
project's second miss brings the 约谈 to the committee's 书记, once. Roles are held throughout."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.projects import chat as projects_chat
from handlers.projects import library, orders, review
from handlers.projects.config import DEFAULT as CFG
from models.outbox import OutboxMessage
from models.projects import OrderStatus, SupervisionOrder
from tests.harness import Chat, readable
from tests.projects.conftest import REGISTRATION, local

T0 = local(date(2027, 4, 2))


def _texts(session, person_id, part):
    session.expire_all()
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.person_id == person_id).order_by(OutboxMessage.id)
    )
    return [readable(r.payload) for r in rows if part in readable(r.payload)]


def test_the_order_lifecycle_and_the_interview(session_factory, session, org):
    p = library.register(session, org.li, REGISTRATION["lisj"], now=local(date(2027, 2, 10)), cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=T0, cfg=CFG, public_base_url="http://x")
    review.score(session, org.sun, p.id, 80, "", now=T0, cfg=CFG, public_base_url="http://x")
    session.commit()
    chat = Chat(session_factory, [projects_chat.router], now=T0)

    # Only the committee (or 组织部) issues; a bad date or a past one is refused.
    assert "由其上级党委" in chat.say("wangsj", f"督办 #{p.id} 2027-04-15 抓紧摸底").text
    assert "请发送：督办" in chat.say("zhouzz", f"督办 #{p.id} 下周 抓紧摸底").text
    assert "请发送：督办" in chat.say("zhouzz", f"督办 #{p.id} 2027-03-01 抓紧摸底").text
    answer = chat.say("zhouzz", f"督办 #{p.id} 2027-04-15 节点1 4月15日前完成摸底")
    assert "已向李书记发出督办单" in answer.text
    order = session.scalars(select(SupervisionOrder)).one()
    (notice,) = _texts(session, org.li.id, f"督办单 #{order.id}：")
    assert "节点1：完成摸底" in notice and "2027年4月15日" in notice

    # Only the secretary reports it done; a note is required; then the issuer's card has both buttons.
    assert "不是发给您的" in chat.say("wangsj", f"督办完成 #{order.id} 好了").text
    assert "请写明办理情况" in chat.say("lisj", f"督办完成 #{order.id}").text
    assert "等待督办人确认" in chat.say("lisj", f"督办完成 #{order.id} 摸底完成").text
    (card,) = _texts(session, org.zhou.id, "督办单办结确认")
    assert "确认办结" in card and "退回重办" in card and "摸底完成" in card
    # Sent back with a reason (the first miss), reported again, confirmed from the card.
    assert f"退回督办 #{order.id}" in chat.press("zhouzz", orders.ACTION_REOPEN, order=str(order.id)).text
    assert "已退回" in chat.say("zhouzz", f"退回督办 #{order.id} 未附摸底台账").text
    assert _texts(session, org.li.id, "未附摸底台账")
    assert "不能这样操作" in chat.say("zhouzz", f"确认督办 #{order.id}").text  # not reported again yet
    chat.say("lisj", f"督办完成 #{order.id} 已附台账")
    assert (
        "由其上级党委" in chat.press("lisj", orders.ACTION_CONFIRM, order=str(order.id)).text
    )  # not hers to sign off
    assert "已确认督办单" in chat.press("zhouzz", orders.ACTION_CONFIRM, order=str(order.id)).text
    session.expire_all()
    assert session.get(SupervisionOrder, order.id).status == OrderStatus.CLOSED
    assert not _texts(session, org.feng.id, "约谈提醒")

    # A second order goes past its date: the second miss → the committee's 书记 is told to hold a 约谈, once.
    chat.say("zhouzz", f"督办 #{p.id} 2027-04-20 建成停车位")
    for day in (date(2027, 4, 21), date(2027, 4, 22)):
        with session_factory() as s, s.begin():
            orders.check_orders(s, now=local(day, 9), cfg=CFG)
    assert len(_texts(session, org.li.id, "已超过办结时限")) == 1
    (interview,) = _texts(session, org.feng.id, "约谈提醒")
    assert "已2次未按时办结或被退回" in interview and "对李书记进行约谈提醒" in interview
    assert "建成停车位" in chat.say("lisj", "督办单").text
