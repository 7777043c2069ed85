"""Prompt vocabulary for the diff and lint modules: quotes, style anchors, knobs and scripts.

Both modules must agree on what counts as "quoted text" and as a "style", so it lives here once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .patterns import LazyPattern, words

__all__ = [
    "KNOB_WORDS",
    "SCRIPTS",
    "STYLE_ANCHORS",
    "QuotedSpan",
    "find_quotes",
    "find_style_anchors",
    "scripts_in",
]


@dataclass(frozen=True, slots=True)
class QuotedSpan:
    """Text inside one pair of quotes; ``start``/``end`` include the quote marks."""

    text: str
    start: int
    end: int

    @property
    def inner(self) -> tuple[int, int]:
        """Character offsets of the text between the quote marks."""
        return self.start + 1, self.end - 1


# Straight double quotes pair left to right and may span lines. Single quotes (straight and
# curly) only count when they are not apostrophes: no letter before the opening mark or after
# the closing one ("the person's pose" is not a quote).
_QUOTE = re.compile(
    r"""
      "(?P<d>[^"]*)"
    | “(?P<c>[^”“]*)”
    | „(?P<g>[^“”„]*)[“”]
    | «(?P<a>[^»«]*)»
    | 「(?P<j>[^」「]*)」
    | 『(?P<k>[^』『]*)』
    | (?<![\w'’])'(?P<s>[^'\n]+?)'(?![\w'’])
    | (?<![\w'’])‘(?P<t>[^’‘\n]+?)’(?![\w'’])
    """,
    re.VERBOSE,
)


def find_quotes(text: str) -> list[QuotedSpan]:
    """Every quoted passage in ``text``, left to right, not overlapping. Empty quotes are skipped."""
    spans: list[QuotedSpan] = []
    for match in _QUOTE.finditer(text):
        inner = next(group for group in match.groups() if group is not None)
        if inner.strip():
            spans.append(QuotedSpan(inner, match.start(), match.end()))
    return spans


# Canonical style anchor → regex alternatives (word-bounded, case-insensitive). The prompting
# guide: "ukiyo-e + watercolor + 8K + cinematic + minimalist" cancels out; pick one or two.
STYLE_ANCHORS: dict[str, str] = {
    "ukiyo-e": r"ukiyo[- ]?e",
    "watercolor": r"water[- ]?colou?rs?",
    "oil painting": r"oil[- ]paint(?:ing|ed)",
    "gouache": r"gouache",
    "8K": r"8k",
    "4K": r"4k",
    "HDR": r"hdr",
    "cinematic": r"cinematic",
    "minimalist": r"minimalist(?:ic)?|minimalism",
    "photorealistic": r"photo[- ]?realistic|photorealism|hyper[- ]?realistic|hyperrealism",
    "anime": r"anime",
    "manga": r"manga",
    "pixel art": r"pixel[- ]art",
    "vaporwave": r"vaporwave",
    "synthwave": r"synthwave",
    "impressionist": r"impressionis[tm]",
    "expressionist": r"expressionis[tm]",
    "cubist": r"cubis[tm]",
    "surrealist": r"surrealis[tm]|surreal",
    "art deco": r"art[- ]deco",
    "art nouveau": r"art[- ]nouveau",
    "bauhaus": r"bauhaus",
    "baroque": r"baroque",
    "pop art": r"pop[- ]art",
    "cyberpunk": r"cyberpunk",
    "steampunk": r"steampunk",
    "low poly": r"low[- ]?poly",
    "isometric": r"isometric",
    "film noir": r"film[- ]noir|noir",
    "studio ghibli": r"(?:studio )?ghibli",
    "claymation": r"claymation",
    "3D render": r"3d[- ]render(?:ed|ing)?|octane render|unreal engine",
    "cel-shaded": r"cel[- ]shad(?:ed|ing)",
    "comic book": r"comic[- ]book",
    "line art": r"line[- ]art",
    "charcoal": r"charcoal (?:sketch|drawing)",
    "pencil sketch": r"pencil (?:sketch|drawing)",
    "stained glass": r"stained[- ]glass",
    "flat design": r"flat (?:design|illustration|vector)",
    "vector art": r"vector art",
    "psychedelic": r"psychedelic",
    "lomography": r"lomo(?:graphy)?",
    "polaroid": r"polaroid",
    "brutalist": r"brutalis[tm]",
}

_STYLE_PATTERNS: tuple[tuple[str, LazyPattern], ...] = tuple(
    (name, words(pattern)) for name, pattern in STYLE_ANCHORS.items()
)


def find_style_anchors(text: str) -> list[tuple[str, int, int]]:
    """Distinct style anchors in ``text`` as ``(canonical name, start, end)`` of the first hit,
    in order of appearance."""
    found: list[tuple[str, int, int]] = []
    for name, pattern in _STYLE_PATTERNS:
        match = pattern.search(text)
        if match:
            found.append((name, match.start(), match.end()))
    found.sort(key=lambda item: item[1])
    return found


# Knob → regex alternatives, in order of preference when a change matches several.
KNOB_WORDS: tuple[tuple[str, str], ...] = (
    (
        "lighting",
        r"light(?:s|ing|ed)?|lit|backlit|backlight\w*|glow\w*|shadows?|golden hour|blue hour"
        r"|sunset|sunrise|dusk|dawn|twilight|sunlight|moonlight|candlelight|daylight|lamplight"
        r"|neon|overcast|high[- ]key|low[- ]key|chiaroscuro|rim|softbox|spotlight\w*"
        r"|illuminat\w*|ambient|noon|midday|night(?:time)?|flash",
    ),
    ("background", r"background|backdrop|setting|scenery|surroundings|environment"),
    (
        "pose",
        r"pose[sd]?|posing|posture|stance|gesture|gesturing|standing|sitting|seated|kneeling"
        r"|crouching|leaning|lying|reclining|walking|running|jumping|arms?|hands?|facing"
        r"|looking|head tilt(?:ed)?",
    ),
    ("expression", r"expression|smil\w*|frown\w*|laugh\w*|grin\w*|serious|surprised"),
    ("typography", r"font|typeface|typography|serif|sans[- ]serif|lettering|bold|italic"),
    (
        "style",
        "|".join(STYLE_ANCHORS.values())
        + r"|style|aesthetic|illustration|painting|photo(?:graph)?|render|sketch|drawing",
    ),
    (
        "colour",
        r"colou?rs?|colou?red|palette|hue|tint|monochrome|black and white|sepia|pastel|vibrant"
        r"|muted|(?:de)?saturated|red|orange|yellow|green|blue|purple|violet|pink|magenta|cyan"
        r"|teal|turquoise|white|black|gr[ae]y|brown|beige|gold(?:en)?|silver|navy|crimson"
        r"|scarlet|maroon|ivory|cream",
    ),
    (
        "camera",
        r"close-?ups?|wide(?:-angle)? shot|wide-angle|aerial|bird's-eye|overhead|top-down"
        r"|low[- ]angle|high[- ]angle|eye[- ]level|angle|lens|\d+ ?mm|macro|telephoto|fisheye"
        r"|bokeh|depth of field|focus|shot|framing|framed|composition|rule of thirds|centered"
        r"|centred|symmetr\w*|zoom\w*|crop\w*|camera|perspective|view",
    ),
)


# Script → (words that name it, how to name it).
SCRIPTS: dict[str, tuple[str, str]] = {
    "Japanese": (r"japanese|kana|hiragana|katakana|kanji", "Japanese kana"),
    "Chinese": (r"chinese|hanzi|kanji|japanese|mandarin|cantonese", "Chinese characters (hanzi)"),
    "Korean": (r"korean|hangul|hangeul", "Korean Hangul"),
    "Cyrillic": (
        r"cyrillic|russian|ukrainian|bulgarian|serbian|belarusian|kazakh|macedonian|mongolian",
        "Cyrillic",
    ),
    "Arabic": (r"arabic|right-to-left|rtl|persian|farsi|urdu", "Arabic, right-to-left"),
    "Hebrew": (r"hebrew|right-to-left|rtl|yiddish", "Hebrew, right-to-left"),
    "Devanagari": (r"devanagari|hindi|sanskrit|marathi|nepali", "Hindi in Devanagari"),
    "Thai": (r"thai", "Thai script"),
    "Greek": (r"greek", "Greek letters"),
}
_NAME_PREFIXES = {
    "HIRAGANA": "Japanese",
    "KATAKANA": "Japanese",
    "KATAKANA-HIRAGANA": "Japanese",
    "HALFWIDTH": "Japanese",  # refined below: only halfwidth katakana
    "HANGUL": "Korean",
    "CYRILLIC": "Cyrillic",
    "ARABIC": "Arabic",
    "HEBREW": "Hebrew",
    "DEVANAGARI": "Devanagari",
    "THAI": "Thai",
    "GREEK": "Greek",
}


def scripts_in(text: str) -> list[str]:
    """Non-Latin scripts used by the letters of ``text``, in order of first appearance."""
    found: list[str] = []
    for char in text:
        if char.isascii() or not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        first = name.split(" ", 1)[0]
        script = _NAME_PREFIXES.get(first)
        if first == "HALFWIDTH" and "KATAKANA" not in name:
            script = None
        if first == "CJK" and "IDEOGRAPH" in name:
            script = "Chinese"
        if script and script not in found:
            found.append(script)
    if "Japanese" in found and "Chinese" in found:
        found.remove("Chinese")  # kanji among kana: Japanese text
    return found
