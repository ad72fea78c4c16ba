"""The observers' yearly rating (seed 000): 优秀/称职/基本称职/不称职 proposed from coverage, timeliness and
form quality, confirmed by the committee; the year's training recorded."""

from __future__ import annotations
