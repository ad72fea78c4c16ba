"""Chart images for the digest (matplotlib, Agg), with a CJK font so Chinese labels render.

The font is found through matplotlib's font manager (and fontconfig as a fallback); the Debian
package fonts-wqy-zenhei is installed by scripts/setup.sh and the Dockerfile. Without any CJK font
the chart would draw empty boxes, so rendering fails with a clear message instead.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from handlers.monthly import strings  # noqa: E402

# Families known to carry CJK glyphs, best first.
CJK_FAMILIES = (
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
LAG_COLOR = "#c0392b"
OK_COLOR = "#2e86c1"
LABEL_ROOM = 1.1  # the x axis runs 10% past the scale's maximum, where the value labels go


class NoCJKFont(RuntimeError):
    def __init__(self) -> None:
        super().__init__(strings.NO_CJK_FONT)


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in by_name:
            return by_name[family]
    try:  # fontconfig knows fonts matplotlib's cache may have missed
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path:
            font_manager.fontManager.addfont(path)
            return path
    raise NoCJKFont()


def cjk_font() -> font_manager.FontProperties:
    return font_manager.FontProperties(fname=cjk_font_path())


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def bars_png(
    title: str, labels: list[str], values: list[float], *, xlabel: str, flags: list[bool] | None = None,
    xmax: float = 100.0, font: font_manager.FontProperties | None = None,
) -> bytes:  # fmt: skip
    """A horizontal bar chart, first item at the top; flagged bars are drawn red.

    Every reader of a digest fetches the same chart; drawing takes a tenth of a second, so the PNG is
    kept per distinct input (the data itself is the key: a recompute with new scores draws anew)."""
    fname = (font or cjk_font()).get_file()
    flags = flags or [False] * len(values)
    return _cached_bars(title, tuple(labels), tuple(values), xlabel, tuple(flags), xmax, fname)


@lru_cache(maxsize=128)  # a few hundred KB: one chart per unit of a county for the months being read
def _cached_bars(
    title: str, labels: tuple[str, ...], values: tuple[float, ...], xlabel: str, flags: tuple[bool, ...],
    xmax: float, fname: str,
) -> bytes:  # fmt: skip
    return draw_bars(title, labels, values, xlabel, flags, xmax, font_manager.FontProperties(fname=fname))


def draw_bars(
    title: str, labels: Sequence[str], values: Sequence[float], xlabel: str, flags: Sequence[bool],
    xmax: float, font: font_manager.FontProperties,
) -> bytes:  # fmt: skip
    return _png(bars_figure(title, labels, values, xlabel, flags, xmax, font))


def bars_figure(
    title: str, labels: Sequence[str], values: Sequence[float], xlabel: str, flags: Sequence[bool],
    xmax: float, font: font_manager.FontProperties,
) -> Figure:  # fmt: skip
    height = 1.2 + 0.32 * max(len(labels), 1)
    fig = Figure(figsize=(6.4, height))
    ax = fig.subplots()
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, values, color=[LAG_COLOR if f else OK_COLOR for f in flags])
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontproperties=font)
    # Room past the scale for the value labels: a bar at 100 ended on the frame with its "100" over it
    # (issue 15, also seen). The ticks stop at the scale's end; the open right side shows no frame.
    ax.set_xlim(0, xmax * LABEL_ROOM)
    ax.set_xticks([xmax * i / 5 for i in range(6)])
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel(xlabel, fontproperties=font)
    ax.set_title(title, fontproperties=font)
    for y, v in zip(ys, values, strict=True):
        ax.text(min(v, xmax) + xmax * 0.01, y, f"{v:g}", va="center", fontsize=8)
    return fig


def branch_chart(unit: str, month_label: str, explanation: dict) -> bytes:
    """Each part of a branch's score as a percentage."""
    items = dict(explanation.get("items", {}))
    items["quality"] = explanation.get("quality")
    items["rectification"] = explanation.get("rectification")
    keys = [k for k, v in items.items() if v is not None]
    values = [round(items[k] * 100) for k in keys]
    return bars_png(
        strings.CHART_BRANCH_TITLE.format(unit=unit, month=month_label),
        [strings.ITEM_LABELS[k] for k in keys],
        values,
        xlabel=strings.CHART_PERCENT,
        flags=[v < 60 for v in values],
    )


def units_chart(
    unit: str, month_label: str, rows: list[tuple[str, float, bool]], max_bars: int = 30
) -> bytes:
    """Scores of the units below (best first). A long list keeps the top and every laggard."""
    rows = sorted(rows, key=lambda r: -r[1])
    if len(rows) > max_bars:
        laggards = [r for r in rows if r[2]][: max_bars // 2]
        top = [r for r in rows if not r[2]][: max_bars - len(laggards)]
        rows = sorted(top + laggards, key=lambda r: -r[1])
    return bars_png(
        strings.CHART_UNITS_TITLE.format(unit=unit, month=month_label),
        [r[0] for r in rows],
        [r[1] for r in rows],
        xlabel=strings.CHART_SCORE,
        flags=[r[2] for r in rows],
    )
