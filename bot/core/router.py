"""Routing: each handlers/ module owns a Router and registers its chat commands, card actions and forms.

Commands match the way people type in Chinese chat: full-width letters and punctuation, an @mention
of the bot in groups, extra spaces. The longest matching command word wins, so "本月会议" beats "会议".
Only the command word is matched on the folded text: the arguments keep the person's own words (see
`fold_args`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.context import HandlerContext

CommandHandler = Callable[["HandlerContext", str], None]
ActionHandler = Callable[["HandlerContext", dict[str, str]], None]
FormHandler = Callable[["HandlerContext", dict[str, Any]], None]
Audience = Callable[["HandlerContext"], bool]

_MENTION = re.compile(r"[@＠]\S+")
_EDGE_PUNCT = " \t\r\n\u3000,.;:!?、，。；：！？~～"
# The full-width punctuation a Chinese IME types in prose (a reason, minutes, a name in brackets):
# NFKC would make it ASCII, so arguments keep it as typed.
_PROSE_PUNCT = frozenset("，；：！？（）～")
_TIME_COLON = re.compile(r"(?<=\d)：(?=\d)")


def normalize(text: str) -> str:
    """Fold full-width forms (NFKC), drop @mentions, collapse white space, trim punctuation at the ends."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _MENTION.sub(" ", text)
    text = " ".join(text.split())
    return text.strip(_EDGE_PUNCT)


def fold_args(text: str) -> str:
    """A command's arguments as handlers parse them: full-width digits, letters and signs folded
    (＃１２ → #12, ２０２６－０５－０８ → 2026-05-08, a time's ９：００ → 9:00), the person's prose
    punctuation (，：（）…), line breaks and spacing kept as typed."""
    text = _TIME_COLON.sub(":", text)
    return "".join(c if c in _PROSE_PUNCT else unicodedata.normalize("NFKC", c) for c in text)


def _args_after(text: str, word: str) -> str:
    """What follows the command word in the person's own text (the word was found on the folded text).
    The shortest prefix that folds to the word is the word as they typed it."""
    typed = _MENTION.sub(" ", text).strip(_EDGE_PUNCT)
    for end in range(1, len(typed) + 1):
        folded = normalize(typed[:end]).lower()
        if folded == word:
            return fold_args(typed[end:]).strip(_EDGE_PUNCT)
        if len(folded) > len(word):
            break
    return ""  # unreachable for a word match() found; nothing rather than a wrong argument


def everyone(_ctx: HandlerContext) -> bool:
    return True


def bound(ctx: HandlerContext) -> bool:
    """People the roster knows (their chat account is bound)."""
    return ctx.person is not None


def any_role(*roles) -> Audience:
    """An audience predicate: people holding any of `roles` (models.org.Role) on any unit."""

    def predicate(ctx: HandlerContext) -> bool:
        return any(ctx.has_role(role) for role in roles)

    return predicate


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    handler: CommandHandler
    help: str
    audience: Audience = everyone
    # Public commands also answer people whose chat account is not bound (帮助, 我的).
    public: bool = False


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command] = []
        self.actions: dict[str, ActionHandler] = {}
        self.forms: dict[str, FormHandler] = {}

    def command(self, *words: str, help: str = "", audience: Audience = everyone, public: bool = False):
        """Register a chat command. The handler gets (ctx, args): the text after the command word.

        `help` (or the handler's docstring's first line) is shown by 帮助 to people for whom
        `audience(ctx)` is true; the handler still checks roles itself before acting.
        """

        def decorator(fn: CommandHandler) -> CommandHandler:
            # No help and no docstring: a hidden command, left out of 帮助.
            text = help or next(iter((fn.__doc__ or "").strip().splitlines()), "")
            self.commands.append(
                Command(tuple(normalize(w).lower() for w in words), fn, text, audience, public)
            )
            return fn

        return decorator

    def action(self, name: str):
        """Register a card button action; Button(action=name, params=...) calls it back with params."""

        def decorator(fn: ActionHandler) -> ActionHandler:
            if name in self.actions:
                raise ValueError(f"action {name!r} registered twice in {self.name}")
            self.actions[name] = fn
            return fn

        return decorator

    def form(self, name: str):
        def decorator(fn: FormHandler) -> FormHandler:
            self.forms[name] = fn
            return fn

        return decorator


class Routes:
    """All routers of the app, merged. Built once by the composition root."""

    def __init__(self, routers: Iterable[Router]) -> None:
        # The same router listed twice (two wiring lines for one feature) is one router.
        self.routers = list({id(r): r for r in routers}.values())
        self.commands = [c for r in self.routers for c in r.commands]
        self.actions: dict[str, ActionHandler] = {}
        self.forms: dict[str, FormHandler] = {}
        for r in self.routers:
            for name, fn in r.actions.items():
                if name in self.actions:
                    raise ValueError(f"action {name!r} registered by two routers")
                self.actions[name] = fn
            self.forms.update(r.forms)

    def match(self, text: str) -> tuple[Command, str] | None:
        """The command the text starts with (longest word first) and the rest as its arguments."""
        text_as_typed = text or ""
        text = normalize(text)
        folded = text.lower()  # ASCII commands match in any case; Chinese is unaffected
        best: tuple[Command, str, int] | None = None
        for command in self.commands:
            for word in command.words:
                if (
                    folded == word
                    or folded.startswith(word + " ")
                    or (folded.startswith(word) and not word.isascii())
                ):
                    if best is None or len(word) > best[2]:
                        best = (command, word, len(word))
        return (best[0], _args_after(text_as_typed, best[1])) if best else None
