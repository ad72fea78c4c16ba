"""Tables of 督查/巡查 (handlers.inspection)."""

from __future__ import annotations
