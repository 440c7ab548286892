"""The journey map as a standalone SVG picture (stages as columns, cells as boxes).

Each cell shows its name, volume and experience score with its margin, coloured
against the journey mean (red: a worst touchpoint, with its rank; green: clearly
above the mean; grey: no scores). Every piece of text is XML-escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from cxloop.journeys.definitions import localized
from cxloop.journeys.maps import Cell, JourneyMap
from cxloop.journeys.placement import cell_name

COLUMN, CELL, GAP, TOP = 190, 64, 8, 70
TONES = {"bad": "#f6d5d1", "good": "#d7eedd", "neutral": "#eef1f5", "none": "#f7f7f7"}
BORDER = {"bad": "#b3261e", "good": "#2e7d4f", "neutral": "#9aa6b2", "none": "#d0d5db"}


def tone(cell: Cell, journey_map: JourneyMap) -> str:
    """``bad``, ``good``, ``neutral`` or ``none`` for the colour of a cell."""
    overall = journey_map.overall
    if cell.score is None or overall is None:
        return "none"
    if cell.worst_rank:
        return "bad"
    moe = cell.score.moe
    if moe is not None and cell.score.mean - moe > overall.mean:
        return "good"
    return "neutral"


def _text(
    x: float, y: float, text: str, *, size: int = 12, weight: str = "normal"
) -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}">'
        f"{escape(text)}</text>"
    )


def _cell(
    cell: Cell, journey_map: JourneyMap, x: float, y: float, words: tuple[str, str]
) -> str:
    kind = tone(cell, journey_map)
    language, volume_word = words
    name = cell_name(cell.slot, cell.detail, language)
    name = name if len(name) <= 18 else name[:17] + "…"
    score = cell.score
    figures = (
        f"{score.mean * 100:.0f} ±{(score.moe or 0) * 100:.0f} · n {score.n:,}"
        if score
        else "—"
    )
    rank = f"#{cell.worst_rank} " if cell.worst_rank else ""
    return "".join(
        [
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{COLUMN - GAP}" height="{CELL - GAP}" '
            f'rx="6" fill="{TONES[kind]}" stroke="{BORDER[kind]}"/>',
            _text(x + 8, y + 18, rank + name, weight="bold"),
            _text(x + 8, y + 36, figures, size=11),
            _text(x + 8, y + 51, f"{cell.volume:,} {volume_word}", size=10),
        ]
    )


def map_svg(
    journey_map: JourneyMap, language: str, *, volume_word: str = "interactions"
) -> str:
    """The journey map as an SVG document; ``volume_word`` follows each volume."""
    stages = journey_map.journey.stages
    rows = max((len(journey_map.cells_of(s.key)) for s in stages), default=0)
    width = COLUMN * len(stages) + GAP * 2
    height = TOP + CELL * max(rows, 1) + GAP * 2
    title = localized(journey_map.journey.title, language)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _text(GAP, 24, title, size=16, weight="bold"),
    ]
    for column, stage in enumerate(stages):
        x = GAP + column * COLUMN
        point = journey_map.stages[column]
        curve = f"{point.score.mean * 100:.0f}" if point.score else "—"
        parts.append(
            _text(x, 52, f"{localized(stage.label, language)} · {curve}", weight="bold")
        )
        for row, cell in enumerate(journey_map.cells_of(stage.key)):
            parts.append(
                _cell(cell, journey_map, x, TOP + row * CELL, (language, volume_word))
            )
    parts.append("</svg>")
    return "\n".join(parts)
