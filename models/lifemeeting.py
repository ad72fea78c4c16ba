"""Tables of handlers.lifemeeting."""

from __future__ import annotations
