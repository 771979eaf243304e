"""Who can reach whom: a hard rule across chat platforms.

A person's ``reach`` is the one platform they can be written to on, or None when
they can be reached from anywhere (the company directory has their e-mail). Two
people bound to different platforms are never a tandem: they could not talk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.matching.model import Person

CODE = "cross_platform"


def reach_codes(mentors: Sequence[Person], mentees: Sequence[Person]
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Per side, 0 (reachable anywhere) or a platform's number; None when everyone
    bound to a platform is bound to the same one (the rule cannot bite)."""
    names = sorted({p.reach for p in (*mentors, *mentees) if p.reach is not None})
    if len(names) < 2:
        return None
    number = {name: i + 1 for i, name in enumerate(names)}

    def codes(people: Sequence[Person]) -> np.ndarray:
        return np.array([number.get(p.reach or "", 0) for p in people], dtype=np.int16)

    return codes(mentors), codes(mentees)


def apart(codes: tuple[np.ndarray, np.ndarray] | None, j: np.ndarray, s: np.ndarray
          ) -> np.ndarray | None:
    """True where the pair is bound to two different platforms (broadcasting j, s)."""
    if codes is None:
        return None
    cj, cs = codes[0][j], codes[1][s]
    found: np.ndarray = (cj != cs) & (cj > 0) & (cs > 0)
    return found


def is_apart(codes: tuple[np.ndarray, np.ndarray] | None, j: int, s: int) -> bool:
    found = apart(codes, np.array([j]), np.array([s]))
    return found is not None and bool(found[0])
