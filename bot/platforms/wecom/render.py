"""Neutral messages → WeCom message/send bodies; button keys that carry an action and its params."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from markdown_it import MarkdownIt

from bot.core.messages import Button, Card, CardUpdate, Image, Markdown, OutgoingMessage, Text, md_escape
from bot.platforms.dingtalk.render import absolute

_KEY_PREFIX = "zb:"
SOURCE_DESC = "支部助手"
IMAGE_LINK = "查看图片"
# WeCom refuses a markdown message over 2,048 bytes (UTF-8) of content (errcode 45002).
MARKDOWN_MAX_BYTES = 2048
CUT_MARK = "……"
_MARKDOWN = MarkdownIt("commonmark")


def plain_text(markdown: str) -> str:
    """Markdown as the plain text a template card shows (its texts do not render markdown): the words
    without the marks, one line per paragraph, heading or list item ("· " before an item)."""
    lines: list[str] = []
    bullet = False
    for token in _MARKDOWN.parse(markdown):
        if token.type == "list_item_open":
            bullet = True
        elif token.type == "inline":
            words = "".join(
                "\n" if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or ()
                if child.type in ("text", "code_inline", "softbreak", "hardbreak")
            )
            lines.append(("· " if bullet else "") + words)
            bullet = False
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.rstrip("\n"))
    return "\n".join(lines)


def _markdown(title: str, text: str, tail: list[str]) -> str:
    """One markdown message: the title in bold, the text, then the tail lines (fields, links). Cut to
    WeCom's size limit at a line of the text, never in the title or the tail."""
    head = f"**{md_escape(title)}**" if title else ""
    end = "\n".join(tail)
    room = MARKDOWN_MAX_BYTES - len(f"{head}\n\n{end}{CUT_MARK}".encode())
    if len(text.encode()) > room:
        text = text.encode()[: max(room, 0)].decode(errors="ignore")
        text = text[: text.rfind("\n")] if "\n" in text else text
        text += CUT_MARK
    return "\n".join(part for part in (head, text, end) if part)


def _card_markdown(card: Card, base_url: str) -> str:
    """A card without buttons to press, as a WeCom markdown message: its text renders (bold, links,
    headings, quotes), its fields follow, and each of its own links is a link; a card without one
    links nowhere."""
    links = [b for b in card.buttons if b.url]
    if card.image_url:
        links.append(Button(IMAGE_LINK, url=card.image_url))
    tail = [f"{md_escape(k)}：{md_escape(v)}" for k, v in card.fields]
    tail += [f"[{md_escape(b.label)}]({absolute(b.url, base_url)})" for b in links]
    return _markdown(card.title, card.text, tail)


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
        "sub_title_text": plain_text(message.text),
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
        return {"msgtype": "markdown", "markdown": {"content": _markdown(message.title, message.text, [])}}
    if isinstance(message, Image):
        url = absolute(message.url, base_url)
        return {
            "msgtype": "news",
            "news": {"articles": [{"title": message.title or "图片", "url": url, "picurl": url}]},
        }
    if isinstance(message, Card):
        if is_interactive(message):
            return {"msgtype": "template_card", "template_card": _template_card(message, task_id, base_url)}
        # A text_notice card would show its markdown raw and must link somewhere (card_action is
        # required): a markdown message renders the text and links only where the card does.
        return {"msgtype": "markdown", "markdown": {"content": _card_markdown(message, base_url)}}
    raise ValueError(f"{type(message).__name__} has no message/send form")


def update_body(message: CardUpdate, *, task_id: str, base_url: str) -> dict:
    """message/update_template_card: replace the whole card, or just relabel the pressed button."""
    if not message.buttons and message.status_label and not message.text:
        return {"button": {"replace_name": message.status_label}}
    return {"template_card": _template_card(message, task_id, base_url)}
