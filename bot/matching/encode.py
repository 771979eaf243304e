"""Turn participants into numpy arrays so pair checks run vectorised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from bot.matching.model import Person

MODES = ("remote", "in_person", "either")
NO_TZ = np.iinfo(np.int16).min


def normalise(text: str | None) -> str | None:
    """Case-insensitive, trimmed comparison key; blank means unknown."""
    if text is None:
        return None
    key = " ".join(text.split()).casefold()
    return key or None


@dataclass(frozen=True)
class Vocabulary:
    """Shared code books, so both sides encode the same string to the same code."""

    topics: dict[str, int]
    languages: dict[str, int]
    texts: dict[tuple[str, str], int]

    @classmethod
    def of(cls, people: Sequence[Person]) -> Vocabulary:
        topics = sorted({t for p in people for t in p.topics})
        languages = sorted({k for p in people for x in p.languages if (k := normalise(x))})
        return cls(
            topics={t: i for i, t in enumerate(topics)},
            languages={x: i for i, x in enumerate(languages)},
            texts={},
        )

    def code(self, kind: str, key: str | None, missing: int) -> int:
        """Code of ``key`` within ``kind``; ``missing`` when unknown."""
        if key is None:
            return missing
        return self.texts.setdefault((kind, key), len(self.texts))


def bitsets(items: Sequence[frozenset[str]], codes: dict[str, int], fold: bool) -> np.ndarray:
    """One row of uint64 words per person; bit i set when the item coded i is present."""
    words = max(1, (len(codes) + 63) // 64)
    masks = []
    for present in items:
        mask = 0
        for item in present:
            code = codes.get((normalise(item) or "") if fold else item, -1)
            if code >= 0:
                mask |= 1 << code
        masks.append(mask)
    low = (1 << 64) - 1
    out = np.zeros((len(items), words), dtype=np.uint64)
    for word in range(words):
        out[:, word] = np.array([(x >> (64 * word)) & low for x in masks], dtype=np.uint64)
    return out


@lru_cache(maxsize=4096)
def utc_offset_minutes(name: str | None, reference: datetime) -> int | None:
    """UTC offset of an IANA zone at the reference instant; None when unknown."""
    if not name:
        return None
    try:
        offset = reference.astimezone(ZoneInfo(name)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return None if offset is None else int(offset.total_seconds() // 60)


@dataclass(frozen=True)
class Side:
    """All mentors or all mentees of a round, as arrays indexed like ``people``."""

    people: tuple[Person, ...]
    capacity: np.ndarray
    languages: np.ndarray
    topics: np.ndarray
    department: np.ndarray
    manager: np.ndarray
    mode: np.ndarray
    tz_minutes: np.ndarray
    location: np.ndarray

    @property
    def size(self) -> int:
        return len(self.people)


def encode_side(
    people: Sequence[Person],
    capacity: Sequence[int],
    managers: Sequence[str | None],
    vocab: Vocabulary,
    reference: datetime,
    missing: int,
) -> Side:
    """Encode one side; ``missing`` (-1 or -2) codes unknown text so it never equals."""
    offsets = [utc_offset_minutes(p.timezone, reference) for p in people]
    return Side(
        people=tuple(people),
        capacity=np.asarray(capacity, dtype=np.int64).reshape(-1),
        languages=bitsets([p.languages for p in people], vocab.languages, fold=True),
        topics=bitsets([p.topics for p in people], vocab.topics, fold=False),
        department=np.array(
            [vocab.code("dept", normalise(p.department), missing) for p in people],
            dtype=np.int32,
        ),
        manager=np.array(
            [vocab.code("manager", m or None, missing) for m in managers],
            dtype=np.int32,
        ),
        mode=np.array([MODES.index(p.meeting_mode) for p in people], dtype=np.intp),
        tz_minutes=np.array([NO_TZ if o is None else o for o in offsets], dtype=np.int16),
        location=np.array(
            [vocab.code("location", normalise(p.location), missing) for p in people],
            dtype=np.int32,
        ),
    )
