"""Tables of 书记项目 (handlers.projects)."""

from __future__ import annotations
