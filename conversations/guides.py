"""Meeting guides: one concrete idea for each hour a tandem meets, never the same twice.

Who sees what, in order: each monthly nudge (``conversations.scheduled``) carries one
guide, in each reader's language; the reminder a week later repeats that month's guide.
- The first meeting gets the first-meeting guide (roles, expectations, confidentiality,
  feedback across the hierarchy); the last meeting the last-meeting guide (what we
  learned, what continues). A tandem matched into a running round counts its own
  meetings: its first nudge is its first meeting.
- The months between get a guide for the tandem's shared topics (what the junior
  offers and the senior wants), in turn, one topic a month; then the senior's other
  wishes, the junior's other topics, and guides for any tandem.
- A tandem never gets a guide twice: which guide it got is recorded in the
  transaction that owes the nudge (``storage.guides``); both partners of a tandem
  nudged at their own local times read the same guide.

The guides are in the catalogues (``bot/core/catalogues/*/guides.yaml``); app.yaml's
``guides`` adds a company's own or replaces a built-in one by its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.core.config import AppConfig
from bot.core.i18n import FALLBACK, catalogue, t
from conversations.messages import Paragraph
from conversations.running_round import meeting_number
from conversations.scheduling import Due, Situation
from storage import guides
from storage.db import Session
from storage.tandems import TandemPeople

FIRST, ANY, LAST = "first", "any", "last"
#: Built-in guides for any tandem have ids ``general_<n>``.
GENERAL = "general"


@dataclass(frozen=True)
class Guide:
    """One idea for an hour: for a topic (None: any tandem) and a meeting (``first``,
    ``last`` or ``any`` between). Texts from app.yaml, or (None) from the catalogues."""

    id: str
    topic: str | None
    meeting: str
    titles: Mapping[str, str] | None = None
    texts: Mapping[str, str] | None = None

    def title(self, language: str) -> str:
        return _own(self.titles, language) or t(language, f"guide.{self.id}.title")

    def text(self, language: str) -> str:
        return _own(self.texts, language) or t(language, f"guide.{self.id}.text")


def _own(texts: Mapping[str, str] | None, language: str) -> str | None:
    if texts is None:
        return None
    return texts.get(language) or next(iter(texts.values()))


def built_in() -> tuple[Guide, ...]:
    """The catalogues' guides: ``first``, ``last``, ``<topic>_<n>``, ``general_<n>``.
    Read once per catalogue: every nudge asks, and the catalogue has thousands of keys."""
    global _built_in
    texts = catalogue(FALLBACK)
    if _built_in is None or _built_in[0] is not texts:  # catalogues merged since
        _built_in = (texts, _guides_in(texts))
    return _built_in[1]


#: The catalogue ``built_in`` last read, and its guides.
_built_in: tuple[Mapping[str, str], tuple[Guide, ...]] | None = None


def _guides_in(texts: Mapping[str, str]) -> tuple[Guide, ...]:
    found = []
    for key in texts:
        if not (key.startswith("guide.") and key.endswith(".title")):
            continue
        guide_id = key.removeprefix("guide.").removesuffix(".title")
        if guide_id in (FIRST, LAST):
            found.append(Guide(guide_id, None, guide_id))
            continue
        topic = guide_id.rpartition("_")[0]
        found.append(Guide(guide_id, None if topic == GENERAL else topic, ANY))
    return tuple(found)


def library(config: AppConfig) -> tuple[Guide, ...]:
    """The built-in guides, each replaced by app.yaml's guide of the same id, then
    app.yaml's new ones. Made once per configuration: every nudge's reader asks."""
    global _library
    found = built_in()
    if _library is None or _library[0] is not config or _library[1] is not found:
        own = {g.id: Guide(g.id, g.topic, g.meeting, g.titles, g.texts) for g in config.guides}
        _library = (config, found, (*(own.pop(g.id, g) for g in found), *own.values()))
    return _library[2]


#: The configuration and built-in guides ``library`` last read, and its guides.
_library: tuple[AppConfig, tuple[Guide, ...], tuple[Guide, ...]] | None = None


def topics_of(pair: TandemPeople) -> tuple[list[str], list[str]]:
    """The tandem's shared topics (the junior offers, the senior wants), and then the
    senior's other wishes and the junior's other topics."""
    shared = list(dict.fromkeys(pair.tandem.explanation.get("offered_wished") or []))
    others = [tp for tp in dict.fromkeys([*pair.mentee.topics, *pair.mentor.topics])
              if tp not in shared]
    return shared, others


def choose(found: tuple[Guide, ...], pair: TandemPeople, month: int, total: int,
           used: set[str]) -> Guide | None:
    """The guide for the tandem's meeting ``month`` of ``total``, none of ``used``."""
    unused = [g for g in found if g.id not in used]
    moment = FIRST if month == 1 else LAST if month == total else None
    fitting = [g for g in unused if g.meeting == moment]
    if fitting:
        return fitting[0]
    shared, others = topics_of(pair)
    start = (month - 2) % len(shared) if shared else 0
    order = [*shared[start:], *shared[:start], *others, None]
    between = [g for topic in order for g in unused if g.meeting == ANY and g.topic == topic]
    return between[0] if between else None


async def decide(session: Session, s: Situation, occasions: list[Due]) -> list[Due]:
    """The nudges' guides, recorded in the transaction that owes the nudges; the
    occasions with them. A tandem's period keeps the guide it got already (a partner's
    earlier nudge, in another time zone); partners nudged in one chunk share the one
    chosen; a new one is none the tandem ever got."""
    pairs = [_pair(due) for due in occasions]
    given = await guides.given(session, {pair.tandem.id for pair in pairs})
    used: dict[int, set[str]] = {}
    for (tandem_id, _), guide_id in given.items():
        used.setdefault(tandem_id, set()).add(guide_id)
    found, chosen = library(s.ctx.config), {}
    for due, pair in zip(occasions, pairs, strict=True):
        key = (pair.tandem.id, due.params["period"])
        if key in given or key in chosen:
            continue
        month, total = meeting_number(pair.tandem, key[1], s.dates.periods)
        guide = choose(found, pair, month, total, used.setdefault(pair.tandem.id, set()))
        if guide is not None:
            chosen[key] = guide.id
            used[pair.tandem.id].add(guide.id)
    kept = {**given, **await guides.keep(session, chosen, s.now)}
    return [replace(due, params={**due.params,
                                 "guide": kept.get((pair.tandem.id, due.params["period"]))})
            for due, pair in zip(occasions, pairs, strict=True)]


def _pair(due: Due) -> TandemPeople:
    assert due.pair is not None  # a nudge is a tandem's
    return due.pair


def paragraph(config: AppConfig, guide_id: str | None, language: str) -> Paragraph | None:
    """The guide as the nudge shows it; None if there is none (or app.yaml dropped it)."""
    guide = next((g for g in library(config) if g.id == guide_id), None)
    if guide is None:
        return None
    return Paragraph(t(language, "nudge.guide", title=guide.title(language),
                       text=guide.text(language)))
