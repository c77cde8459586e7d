"""The words listings and filters share: a listing's condition, category, sale type and seller
type, and how a size label is written so that two spellings of one size compare equal.

Defined once here: the import format, the parsers, the filters' validation and
matching, the alerts and every door use these values and labels.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Each vocabulary: stored value → how people read it, in order from best to worst or
# from most to least common.
CONDITIONS = {
    "new": "New",
    "like_new": "Like new",
    "good": "Good",
    "fair": "Fair",
    "poor": "Poor",
}
CATEGORIES = {
    "outerwear": "Outerwear",
    "tops": "Tops",
    "bottoms": "Bottoms",
    "footwear": "Footwear",
    "bags": "Bags",
    "accessories": "Accessories",
    "other": "Other",
}
SALE_TYPES = {"fixed": "Fixed price", "auction": "Auction"}
SELLER_TYPES = {"individual": "Individual", "shop": "Shop"}


@dataclass(frozen=True)
class Choice:
    """A single-valued listing attribute with a vocabulary, which a filter constrains with
    a list of allowed values (empty: any)."""

    listing_field: str  # the listing's field: "condition"
    filter_field: str  # the filter's list: "conditions"
    noun: str  # one value, as a message calls it: "condition"
    values: dict[str, str]


CHOICES = (
    Choice("condition", "conditions", "condition", CONDITIONS),
    Choice("category", "categories", "category", CATEGORIES),
    Choice("sale_type", "sale_types", "sale type", SALE_TYPES),
    Choice("seller_type", "seller_types", "seller type", SELLER_TYPES),
)

MAX_SIZES = 20  # size labels on one listing or one filter
MAX_SIZE_LENGTH = 20  # characters in one size label

# One size, written several ways: "free size" and its Japanese spellings.
_FREE = {"F", "FREE", "FREESIZE", "フリー", "フリーサイズ", "ONESIZE", "OS"}
_SPACES = re.compile(r"\s+")
_CENTIMETRES = re.compile(r"^(\d+(?:\.\d+)?)CM$")


def normalize_size(label: str) -> str:
    """A size label in its one written form: full-width folded, spaces out, letters upper
    case, centimetres as `27cm` (`27.0 CM` too), the free sizes as `FREE`. "" when empty."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", label)).upper()
    if text in _FREE:
        return "FREE"
    if centimetres := _CENTIMETRES.match(text):
        number = centimetres.group(1)
        if "." in number:
            number = number.rstrip("0").rstrip(".")
        return f"{number}cm"
    return text
