"""One shape for everything the bot sends, whatever the platform and API: what the outbox and the chat page show.

{msgtype, title, text, markdown (bool), buttons [{text, url?, key?, action_id?, params?}], images [url]}
"""

from __future__ import annotations

import json
import re

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")

DINGTALK_MSG_KEYS = {
    "sampleText",
    "sampleMarkdown",
    "sampleImageMsg",
    "sampleLink",
    "sampleActionCard",
    "sampleActionCard2",
    "sampleActionCard3",
    "sampleActionCard4",
    "sampleActionCard5",
    "sampleActionCard6",
    "sampleAudio",
    "sampleFile",
    "sampleVideo",
}


def _md_images(text: str) -> list[str]:
    return _MD_IMAGE.findall(text or "")


def _norm(msgtype, title="", text="", *, markdown=False, buttons=None, images=None) -> dict:
    images = list(images or [])
    if markdown:
        images += [u for u in _md_images(text) if u not in images]
    return {
        "msgtype": msgtype,
        "title": title or "",
        "text": text or "",
        "markdown": markdown,
        "buttons": buttons or [],
        "images": images,
    }


def _action_buttons(param: dict) -> list[dict]:
    buttons = []
    if param.get("singleTitle"):
        buttons.append({"text": param["singleTitle"], "url": param.get("singleURL", "")})
    for i in range(1, 7):
        if param.get(f"actionTitle{i}"):
            buttons.append({"text": param[f"actionTitle{i}"], "url": param.get(f"actionURL{i}", "")})
    return buttons


def dingtalk_sample(msg_key: str, param: dict) -> dict:
    """batchSend / groupMessages msgKey + msgParam (already decoded)."""
    if msg_key == "sampleText":
        return _norm("text", text=param.get("content", ""))
    if msg_key == "sampleMarkdown":
        return _norm("markdown", param.get("title", ""), param.get("text", ""), markdown=True)
    if msg_key == "sampleImageMsg":
        return _norm("image", images=[param.get("photoURL", "")])
    if msg_key == "sampleLink":
        return _norm(
            "link",
            param.get("title", ""),
            param.get("text", ""),
            buttons=[{"text": "查看详情", "url": param.get("messageUrl", "")}],
            images=[param["picUrl"]] if param.get("picUrl") else [],
        )
    if msg_key.startswith("sampleActionCard"):
        return _norm(
            "actionCard",
            param.get("title", ""),
            param.get("text", ""),
            markdown=True,
            buttons=_action_buttons(param),
        )
    return _norm(msg_key, text=json.dumps(param, ensure_ascii=False))


def dingtalk_webhook(body: dict) -> dict:
    """A sessionWebhook body (the custom-robot message format)."""
    t = body.get("msgtype", "")
    if t == "text":
        return _norm("text", text=(body.get("text") or {}).get("content", ""))
    if t == "markdown":
        md = body.get("markdown") or {}
        return _norm("markdown", md.get("title", ""), md.get("text", ""), markdown=True)
    if t == "actionCard":
        ac = body.get("actionCard") or {}
        buttons = _action_buttons(ac) + [
            {"text": b.get("title", ""), "url": b.get("actionURL", "")} for b in ac.get("btns") or []
        ]
        return _norm("actionCard", ac.get("title", ""), ac.get("text", ""), markdown=True, buttons=buttons)
    if t == "link":
        link = body.get("link") or {}
        return _norm(
            "link",
            link.get("title", ""),
            link.get("text", ""),
            buttons=[{"text": "查看详情", "url": link.get("messageUrl", "")}],
            images=[link["picUrl"]] if link.get("picUrl") else [],
        )
    if t == "feedCard":
        links = (body.get("feedCard") or {}).get("links") or []
        return _norm(
            "feedCard",
            links[0].get("title", "") if links else "",
            buttons=[{"text": x.get("title", ""), "url": x.get("messageURL", "")} for x in links],
            images=[x["picURL"] for x in links if x.get("picURL")],
        )
    if t == "image":
        return _norm("image", images=[(body.get("image") or {}).get("picURL", "")])
    return _norm(t or "unknown", text=json.dumps(body, ensure_ascii=False))


def _loads_maybe(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def dingtalk_card(template: str, params: dict) -> dict:
    """A card instance's current cardParamMap, read by the sandbox's convention (see README, Sandbox).

    title: `title`; body: `markdown` | `content` | `text` | `desc`; buttons: `buttons` (a JSON string list of
    {text, actionId?, params?, url?}); images: `image` / `imageUrl` / `qr` / `chart` and markdown images.
    """
    text = next((params[k] for k in ("markdown", "content", "text", "desc") if params.get(k)), "")
    buttons = []
    raw_buttons = _loads_maybe(params.get("buttons") or params.get("btns") or "[]")
    if isinstance(raw_buttons, list):
        for b in raw_buttons:
            if isinstance(b, dict):
                buttons.append(
                    {
                        "text": b.get("text") or b.get("title") or "按钮",
                        "action_id": b.get("actionId") or b.get("id") or "",
                        "params": _loads_maybe(b.get("params") or b.get("value") or {}),
                        "url": b.get("url") or b.get("actionURL") or "",
                    }
                )
    images = [
        params[k]
        for k in ("image", "imageUrl", "qr", "chart")
        if isinstance(params.get(k), str) and params[k]
    ]
    shown = {
        "title",
        "markdown",
        "content",
        "text",
        "desc",
        "buttons",
        "btns",
        "image",
        "imageUrl",
        "qr",
        "chart",
    }
    extra = {k: v for k, v in params.items() if k not in shown and isinstance(v, str) and v}
    norm = _norm("card", params.get("title", ""), text, markdown=True, buttons=buttons, images=images)
    norm["fields"] = extra
    norm["template"] = template
    return norm


def wecom_message(body: dict) -> dict:
    """A WeCom message/send body."""
    t = body.get("msgtype", "")
    if t == "text":
        return _norm("text", text=(body.get("text") or {}).get("content", ""))
    if t == "markdown":
        return _norm("markdown", text=(body.get("markdown") or {}).get("content", ""), markdown=True)
    if t == "textcard":
        c = body.get("textcard") or {}
        return _norm(
            "textcard",
            c.get("title", ""),
            c.get("description", ""),
            buttons=[{"text": c.get("btntxt") or "详情", "url": c.get("url", "")}],
        )
    if t == "news":
        arts = (body.get("news") or {}).get("articles") or []
        return _norm(
            "news",
            arts[0].get("title", "") if arts else "",
            arts[0].get("description", "") if arts else "",
            buttons=[{"text": a.get("title", ""), "url": a.get("url", "")} for a in arts],
            images=[a["picurl"] for a in arts if a.get("picurl")],
        )
    if t == "image":
        return _norm("image", images=[f"media:{(body.get('image') or {}).get('media_id', '')}"])
    if t == "template_card":
        return wecom_template_card(body.get("template_card") or {})
    return _norm(t or "unknown", text=json.dumps(body, ensure_ascii=False))


def wecom_template_card(card: dict) -> dict:
    main = card.get("main_title") or {}
    lines = [main.get("desc", "")] if main.get("desc") else []
    if card.get("sub_title_text"):
        lines.append(card["sub_title_text"])
    for item in card.get("horizontal_content_list") or []:
        lines.append(f"{item.get('keyname', '')}：{item.get('value', '')}")
    emphasis = card.get("emphasis_content") or {}
    if emphasis.get("title"):
        lines.insert(0, f"{emphasis.get('title')} {emphasis.get('desc', '')}".strip())
    buttons = [
        {"text": b.get("text", ""), "key": b.get("key", ""), "style": b.get("style", 1)}
        for b in card.get("button_list") or []
    ]
    for j in card.get("jump_list") or []:
        buttons.append({"text": j.get("title", ""), "url": j.get("url", "")})
    action = card.get("card_action") or {}
    images = []
    if (card.get("card_image") or {}).get("url"):
        images.append(card["card_image"]["url"])
    norm = _norm("template_card", main.get("title", ""), "\n".join(lines), buttons=buttons, images=images)
    norm["card_type"] = card.get("card_type", "")
    norm["task_id"] = card.get("task_id", "")
    norm["link"] = action.get("url", "")
    return norm
