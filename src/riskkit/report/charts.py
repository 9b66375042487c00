"""The briefing's two figures, the district map and the band chart, as self-contained <img> HTML.

What these guarantee, because leadership reads them in five minutes and on a phone:

- Only counts reach a figure (district names, roles, bands and numbers): no personal data in
  the pixels or the alt text.
- A figure is drawn only when it shows something; otherwise the function returns "" and the
  briefing says it in words. No map when nobody is at ``MAP_MIN_BAND`` or worse (a map of where
  low-risk staff live is a hotspot map of homes, not a finding); no band chart when one band
  holds everyone or when the smallest band would be too thin to see.
- The map's colour classes start at zero and end at or above the largest count, with round
  breaks, so a district with cases is never white and 0 looks different from "not in the area".
- District names never collide: each district gets a number on the map and a line in a key
  below it; numbers that would overlap are spread apart and joined to their district by a
  leader line.
- Figures are sized to stay readable when the HTML scales them to 400 px, and saved as
  palette PNGs to keep the self-contained HTML small.

The ``*_drawing`` functions return the matplotlib figure with what was drawn, for tests that
check geometry (label boxes, colours, key entries) rather than pixels.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from dataclasses import dataclass, field
from html import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import Collection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402
from PIL import Image  # noqa: E402

from riskkit.analysis import Analysis  # noqa: E402
from riskkit.report.words import cases_distinct  # noqa: E402
from riskkit.risk import BANDS  # noqa: E402

BAND_COLOURS = {"Low": "#4c9a2a", "Medium": "#e0a800", "High": "#d9480f", "Very high": "#a51d2d"}
MAP_MIN_BAND = "High"  # the map is drawn only when someone is at this band or worse
MIN_SHARE = 0.015  # smallest band share of a role's bar that is drawn: about 4 px at 400 px wide
MAX_CLASSES = 4  # colour classes above zero
ZERO_COLOUR = "#ffffff"
OUTSIDE_COLOUR = "#e3e3e3"
OUTSIDE_HATCH = "////"
DPI = 100
MAX_MAP_HEIGHT_IN = 5.5  # so that a three-county map still fits a laptop screen with its key
WIDTH_IN = 4.8  # 480 px: the HTML shows it at most this wide, and text stays readable at 400 px
_ROUND = (1, 2, 3, 4, 5, 6, 8)  # mantissas of round class breaks: 1, 2, ... 8, 10, 20, ... 80, 100, ...
_PALETTE_COLOURS = 64


# ----------------------------------------------------------------------------- shared helpers

def png_html(fig: plt.Figure, alt: str) -> str:
    """The figure as an <img> with a base64 64-colour palette PNG (a quarter to a third of the bytes of
    matplotlib's RGBA PNG for these flat figures), closed after saving so notebooks do not keep them."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    plt.close(fig)
    buf.seek(0)
    small = io.BytesIO()
    Image.open(buf).convert("RGB").quantize(colors=_PALETTE_COLOURS).save(small, format="PNG", optimize=True)
    data = base64.b64encode(small.getvalue()).decode("ascii")
    return f'<img class="rk-figure" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _n(value: int) -> str:
    return f"{value:,}"


def _round_up(value: float) -> int:
    """The smallest round number (1, 2, 3, 4, 5, 6, 8 times a power of ten) at or above ``value``."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for m in (*_ROUND, 10):
        if m * power >= value:
            return int(m * power)
    raise AssertionError("unreachable: 10 * power >= value")  # pragma: no cover


# ----------------------------------------------------------------------------- colour classes

@dataclass(frozen=True)
class Classes:
    """Colour classes for counts: class 0 is exactly zero, class k covers ``lows[k]..highs[k]``."""

    lows: tuple[int, ...]
    highs: tuple[int, ...]
    colours: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        return [_n(lo) if lo == hi else f"{_n(lo)}–{_n(hi)}" for lo, hi in zip(self.lows, self.highs, strict=True)]

    def index(self, value: int) -> int:
        """The class a count falls in."""
        for k, hi in enumerate(self.highs):
            if value <= hi:
                return k
        raise ValueError(f"count {value} is above the top class ({self.highs[-1]})")


def class_breaks(values: pd.Series | list[int] | np.ndarray, classes: int = MAX_CLASSES) -> Classes:
    """Round classes from the data: zero alone, then up to ``classes`` classes whose upper
    bounds are the positive counts' quantiles rounded up to round numbers, the last covering
    the maximum. Quantiles rather than equal steps, because a few large districts would
    otherwise put every other district in the first class."""
    v = np.asarray(values, dtype=float)
    positive = v[v > 0]
    highs: list[int] = [0]
    if len(positive):
        for q in np.linspace(0, 1, classes + 1)[1:]:
            bound = _round_up(float(np.quantile(positive, q)))
            if bound > highs[-1]:
                highs.append(bound)
    lows = [0] + [h + 1 for h in highs[:-1]]
    cmap = plt.get_cmap("Blues")
    shades = np.linspace(0.35, 0.9, max(len(highs) - 1, 1))
    colours = [ZERO_COLOUR] + [to_hex(cmap(s)) for s in shades[: len(highs) - 1]]
    return Classes(tuple(lows), tuple(highs), tuple(colours))


# ----------------------------------------------------------------------------- label placement

def _boxes_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Two display-space boxes (x0, y0, x1, y1) share area."""
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def spread(centres: np.ndarray, size: float, bounds: tuple[float, float, float, float],
           gap: float = 4.0, iterations: int = 400) -> np.ndarray:
    """Move square markers of side ``size`` (display px) apart until no two overlap, each
    pushed along the line between the pair, and kept inside ``bounds`` (x0, y0, x1, y1).
    Few markers (districts of a county or three), so the pairwise loop is cheap and the result
    deterministic."""
    p = np.asarray(centres, dtype=float).copy()
    need = size + gap
    half = size / 2
    for _ in range(iterations):
        moved = False
        for i in range(len(p)):
            for j in range(i + 1, len(p)):
                d = p[j] - p[i]
                cheb = max(abs(d[0]), abs(d[1]))
                if cheb >= need:
                    continue
                norm = math.hypot(d[0], d[1])
                u = d / norm if norm > 1e-9 else np.array([math.cos(i + j), math.sin(i + j)])
                step = (need - cheb) / 2 / max(abs(u[0]), abs(u[1])) + 0.5
                p[i] -= u * step
                p[j] += u * step
                moved = True
        p[:, 0] = np.clip(p[:, 0], bounds[0] + half, bounds[2] - half)
        p[:, 1] = np.clip(p[:, 1], bounds[1] + half, bounds[3] - half)
        if not moved:
            break
    return p


def text_boxes(texts: list[Text]) -> list[np.ndarray]:
    """Display-space boxes of drawn texts, their background box included when they have one."""
    fig = texts[0].figure if texts else None
    if fig is None:
        return []
    renderer = fig.canvas.get_renderer()
    out = []
    for t in texts:
        patch = t.get_bbox_patch()
        if patch is not None:
            t.update_bbox_position_size(renderer)  # else the box keeps its size from the last draw
        box = patch.get_window_extent(renderer) if patch is not None else t.get_window_extent(renderer)
        out.append(np.array([box.x0, box.y0, box.x1, box.y1]))
    return out


def overlapping(texts: list[Text]) -> list[tuple[int, int]]:
    """Pairs of texts whose drawn boxes overlap (what the tests and the drawing check)."""
    boxes = text_boxes(texts)
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if _boxes_overlap(boxes[i], boxes[j])]


# ----------------------------------------------------------------------------- district map

@dataclass
class MapDrawing:
    """A drawn district map and what is on it."""

    fig: plt.Figure
    measure: str  # "cases" or "people"
    classes: Classes
    codes: list[str]  # districts in the incident's area, in key order
    values: list[int]
    colours: list[str]  # fill per district in ``codes``
    markers: list[Text]  # the number on the map, per district in ``codes``
    key: list[tuple[int, str, int]]  # (number, district, count), as printed in the key
    key_texts: list[Text] = field(default_factory=list)
    legend_labels: list[str] = field(default_factory=list)
    alt: str = ""
    area: Collection | None = None  # the in-area districts' fills as drawn


def _needs_map(a: Analysis) -> bool:
    """Someone in the incident is at ``MAP_MIN_BAND`` or worse (the whole incident for a
    district view: the map shows the whole incident's counts)."""
    people = (a.whole or a).people
    return bool(len(people)) and int(people["band_rank"].max()) >= BANDS.index(MAP_MIN_BAND)


def map_drawing(a: Analysis) -> MapDrawing | None:
    """The map of counts per district, or None when it would show nothing worth a figure."""
    if not _needs_map(a):
        return None
    geo = a.geo.boundaries
    table = a.districts.set_index("lad_code")
    measure = "cases" if cases_distinct(a) else "people"
    # The area: whole counties where the measure is counted, plus any district the incident
    # touches otherwise (people living there, no case placed there), so zeros are shown in context.
    counted = table.index[table[measure] > 0]
    counties = set(geo.loc[geo.lad_code.isin(counted), "county"].dropna())
    in_area = geo.county.isin(counties) | geo.lad_code.isin(table.index)
    if not in_area.any():
        return None
    shown = geo[in_area].copy()
    shown["value"] = shown.lad_code.map(table[measure]).fillna(0).astype(int)
    shown = shown.sort_values(["value", "district"], ascending=[False, True]).reset_index(drop=True)
    classes = class_breaks(shown["value"])
    colours = [classes.colours[classes.index(v)] for v in shown["value"]]

    rows = math.ceil(len(shown) / 2)
    minx, miny, maxx, maxy = shown.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    map_h = min(WIDTH_IN * (maxy - miny) / (maxx - minx), MAX_MAP_HEIGHT_IN)  # a tall area is drawn narrower
    place = ", ".join(sorted(counties)) or "the incident's area"
    title = textwrap.fill(f"{measure.capitalize()} per district, {place}", 48)  # several counties: two lines
    if a.scope:
        title += f"\n{a.scope_name} outlined in orange"
    if a.geo.schematic:
        title += "\nSchematic boundaries, not real district shapes"
    unplaced = int(table[measure].drop(list(shown.lad_code), errors="ignore").sum())  # unassigned or off the map
    if unplaced:
        title += f"\nNot on the map: {_n(unplaced)} {measure} with no district"
    legend_h, key_h, title_h = 0.6, 0.3 * rows + 0.1, 0.15 + 0.22 * (title.count("\n") + 1)
    fig = plt.figure(figsize=(WIDTH_IN, title_h + map_h + legend_h + key_h), dpi=DPI)
    total_h = title_h + map_h + legend_h + key_h
    ax = fig.add_axes((0, (legend_h + key_h) / total_h, 1, map_h / total_h))
    kax = fig.add_axes((0.03, 0, 0.94, key_h / total_h))
    kax.set_axis_off()

    outside = geo[~in_area]
    if len(outside):
        outside.plot(ax=ax, color=OUTSIDE_COLOUR, edgecolor="#b0b0b0", hatch=OUTSIDE_HATCH, linewidth=0.5)
    shown.plot(ax=ax, color=colours, edgecolor="#333333", linewidth=0.8)
    area = ax.collections[-1]
    if a.scope:
        shown[shown.lad_code == a.scope].boundary.plot(ax=ax, color="#d9480f", linewidth=2.5)
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()

    fig.suptitle(title, fontsize=11, y=1 - 0.06 / total_h, va="top")

    markers = _place_numbers(ax, shown)
    key = [(i + 1, str(r.district), int(r.value)) for i, r in enumerate(shown.itertuples())]
    key_texts = _draw_key(kax, key)

    handles = [Patch(facecolor=c, edgecolor="#333333", linewidth=0.6, label=lab)
               for c, lab in zip(classes.colours, classes.labels, strict=True)]
    if len(outside):
        handles.append(Patch(facecolor=OUTSIDE_COLOUR, edgecolor="#b0b0b0", hatch=OUTSIDE_HATCH,
                             label="not in the area"))
    legend = fig.legend(handles=handles, loc="center", ncol=min(len(handles), 6), fontsize=10, frameon=False,
                        bbox_to_anchor=(0.5, (key_h + legend_h / 2) / total_h), handlelength=1.4,
                        columnspacing=0.9, title=f"{measure.capitalize()} per district", title_fontsize=10)
    alt = (f"Map of {measure} per district in {place}: " + "; ".join(f"{d} {_n(v)}" for _, d, v in key)
           + (f". {a.scope_name} outlined" if a.scope else "")
           + (". Schematic boundaries, not real district shapes" if a.geo.schematic else "")
           + (f". Not on the map: {_n(unplaced)} {measure} with no district" if unplaced else "") + ".")
    return MapDrawing(fig, measure, classes, list(shown.lad_code), [int(v) for v in shown["value"]], colours,
                      markers, key, key_texts, [t.get_text() for t in legend.get_texts()], alt, area)


def _place_numbers(ax: plt.Axes, shown: pd.DataFrame) -> list[Text]:
    """A numbered circle per district at a point inside it; numbers that would overlap are
    spread apart and joined to their point by a leader line."""
    fig = ax.figure
    fig.canvas.draw()  # fixes the axes' final position, so data <-> pixel transforms hold
    style = {"ha": "center", "va": "center", "fontsize": 10, "fontweight": "bold", "zorder": 5,
             "bbox": {"boxstyle": "circle,pad=0.25", "fc": "white", "ec": "#333333", "lw": 0.8}}
    probe = ax.text(0, 0, str(max(len(shown), 10)), **style)
    box = text_boxes([probe])[0]
    probe.remove()
    size = max(box[2] - box[0], box[3] - box[1])
    anchors = np.array([[p.x, p.y] for p in shown.geometry.representative_point()])
    pix = ax.transData.transform(anchors)
    ab = ax.get_window_extent()
    placed = spread(pix, size, (ab.x0, ab.y0, ab.x1, ab.y1))
    data = ax.transData.inverted().transform(placed)
    markers = []
    for k, ((ax0, ay0), (px, py), (dx, dy)) in enumerate(zip(anchors, pix, data, strict=True)):
        if math.hypot(placed[k][0] - px, placed[k][1] - py) > size / 3:
            ax.plot([ax0, dx], [ay0, dy], color="#333333", linewidth=0.8, zorder=4)
            ax.plot([ax0], [ay0], marker="o", markersize=2.5, color="#333333", zorder=4)
        markers.append(ax.text(dx, dy, str(k + 1), **style))
    return markers


def _draw_key(kax: plt.Axes, key: list[tuple[int, str, int]]) -> list[Text]:
    """The key below the map in two columns: number, district, count (right-aligned)."""
    rows = math.ceil(len(key) / 2)
    texts = []
    for i, (number, name, value) in enumerate(key):
        col, row = divmod(i, rows)
        x0, y = 0.5 * col, 1 - (row + 0.5) / rows
        texts.append(kax.text(x0 + 0.025, y, str(number), ha="center", va="center", fontsize=10, fontweight="bold",
                              bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": "#333333", "lw": 0.8}))
        label = kax.text(x0 + 0.075, y, name, ha="left", va="center", fontsize=11)
        count = kax.text(x0 + 0.47, y, _n(value), ha="right", va="center", fontsize=11)
        _fit(label, count)
        texts += [label, count]
    return texts


def _fit(label: Text, right: Text, gap: float = 4.0) -> None:
    """Shrink, then shorten with an ellipsis, a key's district name until it ends ``gap`` px
    before its count: official names can be long ("King's Lynn and West Norfolk")."""
    renderer = label.figure.canvas.get_renderer()
    limit = right.get_window_extent(renderer).x0 - gap
    if label.get_window_extent(renderer).x1 <= limit:
        return
    label.set_fontsize(9.5)
    full = label.get_text()
    while label.get_window_extent(renderer).x1 > limit and len(label.get_text()) > 2:
        label.set_text(label.get_text()[:-2].rstrip() + "…")
    if label.get_text() != full:
        label.set_gid(full)  # the whole name stays with the text (the alt text has it too)


def district_map(a: Analysis) -> str:
    """The map as <img> HTML, or "" when no map is drawn (see ``map_drawing``)."""
    drawing = map_drawing(a)
    return png_html(drawing.fig, drawing.alt) if drawing else ""


# ----------------------------------------------------------------------------- band chart

@dataclass
class BandDrawing:
    """A drawn band chart and what is on it."""

    fig: plt.Figure
    table: pd.DataFrame  # people per role (rows) and band (columns)
    labels: list[Text]  # one count label per non-empty segment
    alt: str
    legend: Legend | None = None


def role_band_table(a: Analysis) -> pd.DataFrame:
    """Distinct people per role and band (a person with two roles counts in both rows)."""
    people = a.people.assign(role=a.people["roles"].str.split(";")).explode("role")
    table = pd.crosstab(people["role"], people["band"].astype(str)).reindex(columns=list(BANDS), fill_value=0)
    table.index = [str(r).replace("_", " ").capitalize() for r in table.index]
    return table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]


def band_chart_shows_something(table: pd.DataFrame) -> bool:
    """More than one band has people, and every non-empty segment is at least ``MIN_SHARE`` of
    its role's bar (else the smallest band would be invisible and a sentence says it better)."""
    if table.empty or int((table.sum(axis=0) > 0).sum()) < 2:
        return False
    share = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
    return bool(((share >= MIN_SHARE) | (table == 0)).all().all())


def band_drawing(a: Analysis) -> BandDrawing | None:
    """Share of each role's people per band, one 100% bar per role with the counts on it; None
    when one band holds everyone or a band would be too thin to see."""
    table = role_band_table(a)
    if not band_chart_shows_something(table):
        return None
    totals = table.sum(axis=1)
    share = table.div(totals, axis=0)
    used = [b for b in BANDS if table[b].sum() > 0]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.1 + 0.62 * len(table)), dpi=DPI)
    left = np.zeros(len(table))
    y = np.arange(len(table))
    segments = []
    for band in used:
        ax.barh(y, share[band], left=left, height=0.5, color=BAND_COLOURS[band], label=band, edgecolor="none")
        segments += [(i, band, left[i], share[band].iloc[i], int(table[band].iloc[i])) for i in range(len(table))]
        left += share[band].to_numpy()
    ax.set_yticks(y, [f"{r} ({_n(int(t))})" for r, t in totals.items()], fontsize=11)
    ax.set_xlim(0, 1)
    ax.set_ylim(len(table) - 0.4, -0.75)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.tick_params(axis="x", labelsize=10)
    ax.set_xlabel("Share of the role's people", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    top = 1 - 0.4 / fig.get_figheight()  # room for the legend above the bars, centred on the figure
    legend = fig.legend(*ax.get_legend_handles_labels(), ncol=len(used), fontsize=10, loc="upper center",
                        bbox_to_anchor=(0.5, 1.0), frameon=False, handlelength=1.4, columnspacing=1.2)
    fig.tight_layout(rect=(0, 0, 1, top))
    labels = _label_segments(ax, [s for s in segments if s[4] > 0])
    alt = ("Bar chart of people by risk band for each role: "
           + "; ".join(f"{r} {', '.join(f'{_n(int(v))} {b}' for b, v in row.items() if v)}"
                       for r, row in table[used].iterrows()) + ".")
    return BandDrawing(fig, table, labels, alt, legend)


def _label_segments(ax: plt.Axes, segments: list[tuple[int, str, float, float, int]]) -> list[Text]:
    """Each segment's count: inside it in white when it fits, else just above the bar, pushed
    right past the previous outside label of that bar so that none overlap."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    to_data = ax.transData.inverted()
    labels: list[Text] = []
    last_right: dict[int, float] = {}
    for row, band, left, width, count in segments:
        inside = ax.text(left + width / 2, row, _n(count), ha="center", va="center", fontsize=10,
                         color="white" if band != "Medium" else "black", fontweight="bold")
        box = inside.get_window_extent(renderer)
        seg0, seg1 = ax.transData.transform([[left, row], [left + width, row]])[:, 0]
        if box.width + 4 <= seg1 - seg0:
            labels.append(inside)
            continue
        inside.remove()
        x_pix = max((seg0 + seg1) / 2, last_right.get(row, -np.inf) + 3 + box.width / 2,
                    ax.get_window_extent().x0 + 3 + box.width / 2)  # clear of the axis line
        x = to_data.transform([[x_pix, 0]])[0][0]
        above = ax.text(x, row - 0.27, _n(count), ha="center", va="bottom", fontsize=10, color="#222222")
        last_right[row] = x_pix + box.width / 2
        labels.append(above)
    return labels


def band_chart(a: Analysis) -> str:
    """The band chart as <img> HTML, or "" when a sentence says it better (see ``band_drawing``)."""
    drawing = band_drawing(a)
    return png_html(drawing.fig, drawing.alt) if drawing else ""
