"""Checks and cleans filter input from any door into the stored form.

Lists may come as JSON lists or, from doors where people type (web forms, the
bot), as comma-separated text. Names and words are stored as typed with white
space tidied and invisible characters removed, brands under their canonical name
when the brand table knows them; duplicates (by normalized form) are dropped.
Control characters and bidi controls are refused, so no filter can look like
another or hold a word that can never match.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from filters.brands import BrandTable
from filters.text import normalize
from lib.errors import FieldError, ValidationFailed
from lib.formatting import format_price as yen
from lib.markets import CHOOSABLE
from lib.prices import MAX_PRICE
from lib.text import refused_character, strip_invisible
from lib.vocabulary import CHOICES, MAX_SIZE_LENGTH, MAX_SIZES, normalize_size

MAX_NAME = 64
MAX_TERM = 64
MAX_TERMS = 20
# Raw input past these is refused before any of it is cleaned: room for every real list
# (repeats and spaces included), and a bound on the work one request can ask for.
MAX_RAW_ITEMS = 5 * MAX_TERMS
MAX_RAW_CHARACTERS = 4 * MAX_TERMS * MAX_TERM
MAX_RAW_TEXT = 1000  # a name or a price

FIELDS = (
    "name",
    "brands",
    "keywords",
    "keywords_any",
    "exclude",
    "price_min",
    "price_max",
    "markets",
    "conditions",
    "sizes",
    "categories",
    "sale_types",
    "seller_types",
    "unknown_ok",
    "include_old",
    "price_drops",
    "active",
)
# The lists of vocabulary values: the filter's field → its vocabulary.
VOCABULARIES = {choice.filter_field: choice for choice in CHOICES}
# Yes-or-no fields, with their defaults and how a message names them.
FLAGS = {
    "unknown_ok": (True, "“Listings that don't say”"),
    "include_old": (False, "“Old listings and relists”"),
    "price_drops": (True, "“Price drops”"),
    "active": (True, "Active"),
}
# What a new filter holds where its input says nothing: every list empty (no condition),
# no price bound, the yes-or-no fields as FLAGS says.
DEFAULTS: dict[str, Any] = {
    **{field: [] for field in FIELDS if field not in {"name", *FLAGS}},
    "price_min": None,
    "price_max": None,
    **{field: default for field, (default, _) in FLAGS.items()},
}
# One item of each list field, for a message showing how a list is written.
_EXAMPLES = {
    "markets": "mercari",
    "sizes": "M",
    **{field: next(iter(choice.values)) for field, choice in VOCABULARIES.items()},
}
_LIST_SEPARATORS = re.compile("[,、，]")
_PRICE_DECORATION = re.compile(r"[¥￥円,\s]")
_ASCII_INTEGER = re.compile("-?[0-9]+")
_TERM_NOUNS = {
    "brands": ("brand", "brands"),
    "keywords": ("keyword", "keywords"),
    "keywords_any": ("any-of word", "any-of words"),
    "exclude": ("excluded word", "excluded words"),
}


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _check_raw_size(field: str, value: Any) -> None:
    """Refuse a list field too large to be meant, before anything is split or cleaned:
    counting items and characters costs nothing, cleaning 600,000 of them seconds."""
    plural = _TERM_NOUNS.get(field, (field, field))[1]
    if isinstance(value, list | tuple):
        if len(value) > MAX_RAW_ITEMS:
            raise FieldError(
                field, f"At most {MAX_TERMS} {plural} are allowed; you gave {len(value):,}."
            )
        length = sum(len(item) for item in value if isinstance(item, str))
    elif isinstance(value, str):
        length = len(value)
    else:
        return
    if length > MAX_RAW_CHARACTERS:
        raise FieldError(
            field,
            f"The {plural} given are {length:,} characters long in all; "
            f"keep them to {MAX_RAW_CHARACTERS:,}.",
        )


def _as_items(field: str, value: Any, text_lists: bool = True) -> list[Any]:
    """The items of a list field; comma-separated text only where `text_lists` (typed input)."""
    if value is None:
        return []
    _check_raw_size(field, value)
    if isinstance(value, str):
        if not text_lists:
            example = json.dumps([_EXAMPLES.get(field, "Rick Owens")], ensure_ascii=False)
            raise FieldError(
                field,
                f"{field} must be a list, such as {example}, not the text "
                f"{json.dumps(value, ensure_ascii=False)}.",
            )
        return [part for part in _LIST_SEPARATORS.split(value) if part.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise FieldError(field, f"{field} must be a list of words or comma-separated text.")


def _visible(field: str, text: str, label: str) -> str:
    """The text as stored: invisible characters out, white space tidied. Control and bidi
    characters are refused, the message starting with `label` ("The name", "Keyword 2")."""
    if why := refused_character(text):
        raise FieldError(field, f"{label} contains {why}; remove it.")
    return _tidy(strip_invisible(text))


def clean_terms(
    field: str, value: Any, brands: BrandTable | None = None, text_lists: bool = True
) -> list[str]:
    singular, plural = _TERM_NOUNS[field]
    cleaned: list[str] = []
    seen: set[str] = set()
    for position, item in enumerate(_as_items(field, value, text_lists), start=1):
        label = f"{singular.capitalize()} {position}"
        if not isinstance(item, str):
            raise FieldError(field, f"{label} must be text, not {item!r}.")
        text = _visible(field, item, label)
        norm = normalize(text)
        if not norm:
            if _tidy(item):
                raise FieldError(field, f"{label} is made only of invisible characters.")
            raise FieldError(field, f"{label} is empty.")
        if len(norm) > MAX_TERM:
            raise FieldError(
                field,
                f"“{text[:20]}…” is {len(norm):,} characters long; keep each {singular} to {MAX_TERM}.",
            )
        stored = brands.display_name(text) if brands is not None else text
        # By the stored form: "cdg" and "Comme des Garcons" are one brand, kept once.
        if (key := normalize(stored)) in seen:
            continue
        seen.add(key)
        cleaned.append(stored)
    if len(cleaned) > MAX_TERMS:
        raise FieldError(
            field, f"At most {MAX_TERMS} {plural} are allowed; you gave {len(cleaned):,}."
        )
    return cleaned


def clean_price(field: str, value: Any) -> int | None:
    label = "minimum price" if field == "price_min" else "maximum price"
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError(field, f"The {label} must be a whole number of yen.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        if len(value) > MAX_RAW_TEXT:
            raise FieldError(field, f"The {label} can be at most {yen(MAX_PRICE)}.")
        digits = _PRICE_DECORATION.sub("", value)
        if not digits:
            return None
        if _ASCII_INTEGER.fullmatch(digits):
            if len(digits) > 1000:  # int() refuses text past 4,300 digits
                raise FieldError(field, f"The {label} can be at most {yen(MAX_PRICE)}.")
            value = int(digits)
        elif any(char.isdigit() for char in digits):
            # Full-width and other scripts' digits: int() would take them, people can't
            # tell them apart from look-alikes, and every door can type 0-9.
            raise FieldError(
                field, f"The {label} must be written with the digits 0-9, not {value!r}."
            )
    if not isinstance(value, int):
        raise FieldError(field, f"The {label} must be a whole number of yen, not {value!r}.")
    if value < 0:
        raise FieldError(field, f"The {label} can't be negative.")
    if value > MAX_PRICE:
        raise FieldError(field, f"The {label} can be at most {yen(MAX_PRICE)}.")
    return value


def clean_markets(value: Any, text_lists: bool = True) -> list[str]:
    known = list(CHOOSABLE)
    chosen: set[str] = set()
    for item in _as_items("markets", value, text_lists):
        code = _tidy(item).lower() if isinstance(item, str) else item
        if code not in known:
            raise FieldError(
                "markets",
                f"{code!r} is not a market you can choose; choose from {', '.join(known)}.",
            )
        chosen.add(code)
    return [code for code in known if code in chosen]


def _choice_key(text: str) -> str:
    """A value as people may type it: "Like new", "like-new" and "like_new" are one."""
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def clean_choices(field: str, value: Any, text_lists: bool = True) -> list[str]:
    """Values of one vocabulary (lib/vocabulary.py), by value or label, in its own order."""
    choice = VOCABULARIES[field]
    noun, values = choice.noun, choice.values
    by_key = {_choice_key(v): v for v in values} | {
        _choice_key(lbl): v for v, lbl in values.items()
    }
    chosen: set[str] = set()
    for item in _as_items(field, value, text_lists):
        code = by_key.get(_choice_key(item)) if isinstance(item, str) else None
        if code is None:
            raise FieldError(field, f"{item!r} is not a {noun}; choose from {', '.join(values)}.")
        chosen.add(code)
    return [code for code in values if code in chosen]


def clean_sizes(value: Any, text_lists: bool = True) -> list[str]:
    """Size labels in their one written form (lib.vocabulary.normalize_size), each once."""
    sizes: list[str] = []
    for position, item in enumerate(_as_items("sizes", value, text_lists), start=1):
        if not isinstance(item, str):
            raise FieldError("sizes", f"Size {position} must be text, not {item!r}.")
        size = normalize_size(_visible("sizes", item, f"Size {position}"))
        if not size:
            raise FieldError("sizes", f"Size {position} is empty.")
        if len(size) > MAX_SIZE_LENGTH:
            raise FieldError(
                "sizes",
                f"Size {position} is {len(size)} characters long; keep it to {MAX_SIZE_LENGTH}.",
            )
        if size not in sizes:
            sizes.append(size)
    if len(sizes) > MAX_SIZES:
        raise FieldError(
            "sizes", f"At most {MAX_SIZES} sizes are allowed; you gave {len(sizes):,}."
        )
    return sizes


def clean_name(value: Any) -> str:
    if isinstance(value, str) and len(value) > MAX_RAW_TEXT:
        raise FieldError(
            "name", f"The name is {len(value):,} characters long; keep it to {MAX_NAME}."
        )
    if not isinstance(value, str) or not _tidy(value):
        raise FieldError("name", "Give the filter a name.")
    name = _visible("name", value, "The name")
    if not name:
        raise FieldError(
            "name", "The name is made only of invisible characters; give it one people can read."
        )
    if len(name) > MAX_NAME:
        raise FieldError(
            "name", f"The name is {len(name):,} characters long; keep it to {MAX_NAME}."
        )
    return name


def clean_flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(field, f"{FLAGS[field][1]} must be true or false.")
    return value


def clean_filter_fields(
    data: Mapping[str, Any], brands: BrandTable, *, text_lists: bool = True
) -> dict[str, Any]:
    """Clean the fields present in `data`; every wrong field is reported, not just the first.

    `text_lists=False` for JSON input (imports, the API), where a list given as text is a
    mistake: `"brands": "Rick Owens, Sacai"` is refused rather than split.
    """
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": clean_name,
        "brands": lambda v: clean_terms("brands", v, brands, text_lists),
        "keywords": lambda v: clean_terms("keywords", v, text_lists=text_lists),
        "keywords_any": lambda v: clean_terms("keywords_any", v, text_lists=text_lists),
        "exclude": lambda v: clean_terms("exclude", v, text_lists=text_lists),
        "price_min": lambda v: clean_price("price_min", v),
        "price_max": lambda v: clean_price("price_max", v),
        "markets": lambda v: clean_markets(v, text_lists),
        "sizes": lambda v: clean_sizes(v, text_lists),
    }
    for field in VOCABULARIES:
        cleaners[field] = functools.partial(clean_choices, field, text_lists=text_lists)
    for field in FLAGS:
        cleaners[field] = functools.partial(clean_flag, field)
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in data.items():
        cleaner = cleaners.get(key)
        if cleaner is None:
            errors.append(
                FieldError(key, f"“{key}” is not a filter field; use {', '.join(FIELDS)}.")
            )
            continue
        try:
            cleaned[key] = cleaner(value)
        except FieldError as error:
            errors.append(error)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def check_whole_filter(values: Mapping[str, Any]) -> None:
    """Rules across fields, on the filter as it would be saved."""
    errors: list[FieldError] = []
    if not any(values.get(field) for field in ("brands", "keywords", "keywords_any")):
        errors.append(
            FieldError(
                "brands",
                "Add at least one brand or keyword; a filter on nothing would match every listing.",
            )
        )
    low, high = values.get("price_min"), values.get("price_max")
    if low is not None and high is not None and low > high:
        errors.append(
            FieldError(
                "price_min", f"The minimum price ({yen(low)}) is above the maximum ({yen(high)})."
            )
        )
    if errors:
        raise ValidationFailed(errors)
