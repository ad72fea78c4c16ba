"""Neutral messages → DingTalk payloads (robot sample messages and interactive-card parameters)."""

from __future__ import annotations

import json
from urllib.parse import urljoin

from bot.core.messages import Card, CardUpdate, Image, Markdown, OutgoingMessage, Text, md_escape


def absolute(url: str, base: str) -> str:
    return (
        url if url.startswith(("http://", "https://")) else urljoin(base.rstrip("/") + "/", url.lstrip("/"))
    )


def _body(text: str, fields) -> str:
    # Fields are plain text (a member's leave reason, a meeting's place); here they become markdown.
    lines = [text] if text else []
    lines += [f"**{md_escape(k)}**：{md_escape(v)}" for k, v in fields]
    return "\n\n".join(lines)


def is_interactive(message: OutgoingMessage) -> bool:
    """Cards whose buttons call back need an interactive card; the rest go as robot sample messages."""
    return isinstance(message, CardUpdate) or (
        isinstance(message, Card) and any(b.action for b in message.buttons)
    )


def sample(message: OutgoingMessage, base_url: str) -> tuple[str, dict]:
    """(msgKey, msgParam) for oToMessages/batchSend and groupMessages/send."""
    if isinstance(message, Text):
        return "sampleText", {"content": message.text}
    if isinstance(message, Markdown):
        return "sampleMarkdown", {"title": message.title, "text": message.text}
    if isinstance(message, Image):
        return "sampleImageMsg", {"photoURL": absolute(message.url, base_url)}
    if isinstance(message, Card):
        text = _body(message.text, message.fields)
        if message.image_url:
            text = f"![]({absolute(message.image_url, base_url)})\n\n{text}"
        links = [b for b in message.buttons if b.url][:5]
        if len(links) == 1:
            return "sampleActionCard", {
                "title": message.title,
                "text": text,
                "singleTitle": links[0].label,
                "singleURL": absolute(links[0].url, base_url),
            }
        if len(links) > 1:
            param = {"title": message.title, "text": text}
            for i, b in enumerate(links, start=1):
                param[f"actionTitle{i}"] = b.label
                param[f"actionURL{i}"] = absolute(b.url, base_url)
            return f"sampleActionCard{len(links)}", param
        return "sampleMarkdown", {"title": message.title, "text": f"### {md_escape(message.title)}\n\n{text}"}
    raise ValueError(f"{type(message).__name__} is not a robot message")


def card_params(message: Card | CardUpdate, base_url: str) -> dict[str, str]:
    """cardParamMap (a Map<String, String>): title, markdown, buttons as a JSON string, image.

    Each action button carries {"action": …, **params} as its callback params, so the press comes back
    to the router's action with its parameters, whatever card template shows it.
    """
    buttons = []
    for b in message.buttons:
        if b.action:
            buttons.append(
                {"text": b.label, "actionId": b.action, "params": {"action": b.action, **b.params}}
            )
        else:
            buttons.append({"text": b.label, "url": absolute(b.url, base_url)})
    params = {
        "title": message.title,
        "markdown": _body(message.text, message.fields),
        "buttons": json.dumps(buttons, ensure_ascii=False),
    }
    image = getattr(message, "image_url", "")
    if image:
        params["image"] = absolute(image, base_url)
    if isinstance(message, CardUpdate) and message.status_label:
        params["status"] = message.status_label
    return params
