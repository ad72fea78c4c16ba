"""Tables of handlers.appraisal."""

from __future__ import annotations
