"""Tables of the observers' yearly rating (handlers.observers.yearly)."""

from __future__ import annotations
