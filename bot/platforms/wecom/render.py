"""Neutral messages → WeCom message/send bodies; button keys that carry an action and its params."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from bot.core.messages import Card, CardUpdate, Image, Markdown, OutgoingMessage, Text, md_escape
from bot.platforms.dingtalk.render import absolute

_KEY_PREFIX = "zb:"
SOURCE_DESC = "支部助手"


def button_key(action: str, params: dict[str, str]) -> str:
    """'zb:<action>?<params>': the press comes back as EventKey; WeCom allows up to 1,024 bytes."""
    key = _KEY_PREFIX + action + ("?" + urlencode(params) if params else "")
    if len(key.encode()) > 1024:
        raise ValueError(f"button key too long for WeCom: {action}")
    return key


def parse_button_key(key: str) -> tuple[str, dict[str, str]]:
    if not key.startswith(_KEY_PREFIX):
        return key, {}
    action, _, query = key[len(_KEY_PREFIX) :].partition("?")
    return action, dict(parse_qsl(query, keep_blank_values=True))


def is_interactive(message: OutgoingMessage) -> bool:
    return isinstance(message, CardUpdate) or (
        isinstance(message, Card) and any(b.action for b in message.buttons)
    )


def _template_card(message: Card | CardUpdate, task_id: str, base_url: str) -> dict:
    card: dict = {
        "card_type": "button_interaction",
        "source": {"desc": SOURCE_DESC},
        "main_title": {"title": message.title[:36]},
        "sub_title_text": message.text,
        "task_id": task_id,
        "button_list": [],
    }
    if message.fields:
        card["horizontal_content_list"] = [{"keyname": k, "value": v} for k, v in message.fields][:6]
    for b in message.buttons[:6]:
        if b.action:
            card["button_list"].append({"text": b.label, "style": 1, "key": button_key(b.action, b.params)})
        else:
            card["button_list"].append(
                {"text": b.label, "style": 2, "type": 1, "url": absolute(b.url, base_url)}
            )
    return card


def body(message: OutgoingMessage, *, task_id: str, base_url: str) -> dict:
    """The message part of a message/send body (msgtype and its content)."""
    if isinstance(message, Text):
        return {"msgtype": "text", "text": {"content": message.text}}
    if isinstance(message, Markdown):
        # The title is plain text (it may name a person or a meeting); only the body is markdown.
        content = f"**{md_escape(message.title)}**\n{message.text}"
        return {"msgtype": "markdown", "markdown": {"content": content}}
    if isinstance(message, Image):
        url = absolute(message.url, base_url)
        return {
            "msgtype": "news",
            "news": {"articles": [{"title": message.title or "图片", "url": url, "picurl": url}]},
        }
    if isinstance(message, Card):
        if is_interactive(message):
            return {"msgtype": "template_card", "template_card": _template_card(message, task_id, base_url)}
        text_lines = [message.text] + [f"{k}：{v}" for k, v in message.fields]
        links = [b for b in message.buttons if b.url]
        card = {
            "card_type": "text_notice",
            "source": {"desc": SOURCE_DESC},
            "main_title": {"title": message.title[:36]},
            "sub_title_text": "\n".join(line for line in text_lines if line),
            "card_action": {"type": 1, "url": absolute(links[0].url if links else "/", base_url)},
        }
        if links:
            card["jump_list"] = [
                {"type": 1, "title": b.label, "url": absolute(b.url, base_url)} for b in links[:3]
            ]
        if message.image_url:
            card["card_image"] = {"url": absolute(message.image_url, base_url)}
        return {"msgtype": "template_card", "template_card": card}
    raise ValueError(f"{type(message).__name__} has no message/send form")


def update_body(message: CardUpdate, *, task_id: str, base_url: str) -> dict:
    """message/update_template_card: replace the whole card, or just relabel the pressed button."""
    if not message.buttons and message.status_label and not message.text:
        return {"button": {"replace_name": message.status_label}}
    return {"template_card": _template_card(message, task_id, base_url)}
