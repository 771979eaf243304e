"""The org chart's part of a matching proposal, in words, for the coordinators:
where people's departments and managers came from, what the directory and the
survey disagree on, broken directory data, and which pairs the org chart kept
apart and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.i18n import t
from conversations.messages import Paragraph
from storage import directory
from storage.db import Session
from storage.models import Participant
from storage.tandems import TandemPeople

#: participant id -> their e-mail in the company directory (partners on two platforms)
Contacts = dict[int, str]
PLATFORM_NAMES = {"slack": "Slack", "teams": "Microsoft Teams"}

#: Lines per list in a proposal; the rest is counted.
SHOWN = 15


def paragraphs(result: dict[str, Any], language: str) -> list[Paragraph]:
    org = result.get("org") or {}
    if not org.get("directory"):
        return []
    found = [Paragraph(t(language, "directory.proposal.sources",
                         directory=org["from_directory"], survey=org["from_survey"]))]
    notes = [t(language, f"directory.note.{note['code']}",
               **{k: v for k, v in note.items() if k != "code"}) for note in org["notes"]]
    if notes:
        found.append(Paragraph(_listed(t(language, "directory.proposal.notes"), notes,
                                       language, "⚠ ")))
    apart = kept_apart(result, language)
    if apart:
        found.append(Paragraph(_listed(t(language, "directory.proposal.kept_apart"), apart,
                                       language, "• ")))
    return found


def kept_apart(result: dict[str, Any], language: str) -> list[str]:
    """The pairs the org chart ruled out in a proposal, each in words with its source."""
    return [_apart(item, language) for item in (result.get("org") or {}).get("kept_apart", [])]


def _apart(item: dict[str, Any], language: str) -> str:
    source = t(language, f"directory.source.{item['source']}")
    if item["code"] == "line":
        return t(language, "directory.apart.line", lower=item["lower"],
                 upper=item["upper"], count=item["levels"], source=source)
    return t(language, "directory.apart.team", mentor=item["mentor"], mentee=item["mentee"],
             manager=item["manager"], source=source)


def _listed(title: str, lines: list[str], language: str, bullet: str) -> str:
    shown = [bullet + line for line in lines[:SHOWN]]
    if len(lines) > SHOWN:
        shown.append(t(language, "directory.proposal.more", count=len(lines) - SHOWN))
    return "\n".join([title, *shown])


def pair_source(pair: dict[str, Any], language: str) -> str:
    """" · org chart: company directory" after a pair's line, when it was consulted."""
    source = pair["explanation"].get("org_source")
    if source is None:
        return ""
    return t(language, "directory.pair_source", source=t(language, f"directory.source.{source}"))


def why_source(explanation: dict[str, Any], language: str) -> str | None:
    """The sentence of a "why you two" saying where departments and managers came from."""
    source = explanation.get("org_source")
    return None if source is None else t(language, f"directory.why.{source}")


async def contacts(session: Session, pairs: Sequence[TandemPeople]) -> Contacts:
    """Directory e-mails of the people whose partner uses another platform."""
    found: Contacts = {}
    for pair in pairs:
        if pair.mentor.platform == pair.mentee.platform:
            continue
        for person in pair.people:
            record = await directory.person_for(session, person.platform, person.user_id)
            if record is not None and record.email:
                found[person.id] = record.email
    return found


def how_to_reach(pair: TandemPeople, reader: Participant, known: Contacts, language: str
                 ) -> str | None:
    """"Anna uses Microsoft Teams, not Slack: write to anna@…" for a partner elsewhere."""
    partner = pair.mentee if reader.id == pair.mentor.id else pair.mentor
    if partner.platform == reader.platform or partner.id not in known:
        return None
    return t(language, "directory.intro.reach", name=partner.display_name or partner.user_id,
             platform=PLATFORM_NAMES.get(partner.platform, partner.platform),
             own=PLATFORM_NAMES.get(reader.platform, reader.platform),
             email=known[partner.id])
