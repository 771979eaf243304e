"""The org chart the matching uses: the company directory, whole, with what people
typed in the survey only as a fallback.

Everyone in the directory is a node, signed up or not, so a junior's manager's
manager is known even when the manager never signed up. A participant found in
the directory (by platform user id) takes its department, manager and office from
there; a participant the directory does not know keeps what they typed. Where the
two disagree, or the directory's own data is broken (a manager nobody knows, a cycle),
the coordinators read it in the proposal: nothing is silently resolved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.matching.model import Person
from bot.matching.org import ancestors
from conversations.match_input import Key, key
from storage.directory import OrgEntry
from storage.models import Participant

DIRECTORY, SURVEY = "directory", "survey"
#: Kept-apart pairs listed per kind at most: a large org has thousands, the
#: proposal shows a sample and the count.
LISTED = 200


@dataclass
class OrgView:
    """The engine's input with the directory applied, and what the coordinators
    should read about it."""

    people: list[Person]
    org: dict[Key, Key]
    #: engine key -> where that person's department and manager came from
    sources: dict[Key, str] = field(default_factory=dict)
    #: engine key -> a name to show (participants, directory people, typed ids)
    names: dict[Key, str] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)


def apply_directory(participants: Sequence[Participant], people: Sequence[Person],
                    survey_org: Mapping[Key, Key], chart: Sequence[OrgEntry]) -> OrgView:
    """People and org chart for the engine, the directory first (see module doc)."""
    by_key = {entry.key: entry for entry in chart}
    by_account = {account: entry for entry in chart for account in entry.accounts}
    found: dict[Key, OrgEntry] = {}
    node: dict[str, Key] = {}
    for participant in participants:
        entry = by_account.get((participant.platform, participant.user_id))
        if entry is not None:
            found[key(participant.id)] = entry
            node.setdefault(entry.key, key(participant.id))
    for entry in chart:
        node.setdefault(entry.key, f"dir:{entry.key}")
    view = OrgView(people=[], org={})
    view.names = {f"dir:{entry.key}": entry.name for entry in chart}
    dangling: set[str] = set()
    for entry in chart:
        if entry.manager_key is None:
            continue
        if entry.manager_key in node:
            view.org[node[entry.key]] = node[entry.manager_key]
        else:
            dangling.add(entry.key)
    for entry_key in sorted(dangling):
        entry = by_key[entry_key]
        view.notes.append({"code": "dangling_manager", "name": entry.name,
                           "manager": entry.manager_key or ""})
    by_participant = {key(p.id): p for p in participants}
    for person in people:
        participant = by_participant[person.id]
        view.names[person.id] = person.name
        entry = found.get(person.id)
        if entry is None:
            # Reachable only where they signed up: never paired across platforms.
            view.people.append(replace(person, reach=participant.platform))
            view.sources[person.id] = SURVEY
            typed = survey_org.get(person.id)
            if typed is not None:
                view.org[person.id] = _typed_manager(typed, participant, by_account, node)
            continue
        view.sources[person.id] = DIRECTORY
        if entry.manager_key in node and node[entry.key] != person.id:
            view.org[person.id] = node[entry.manager_key]  # a second sign-up of one person
        view.notes += _disagreements(person, participant, entry, by_key, by_account)
        view.people.append(replace(person, department=entry.department or person.department,
                                   location=entry.location or person.location,
                                   reach=None if entry.email else participant.platform))
    for typed_id in set(view.org.values()):
        if typed_id.startswith("ext:"):
            view.names.setdefault(typed_id, typed_id.split(":", 2)[2])
    return view


def _typed_manager(typed: Key, participant: Participant,
                   by_account: Mapping[tuple[str, str], OrgEntry], node: Mapping[str, Key]
                   ) -> Key:
    """The manager a participant named, joined to the directory where it knows them, so
    the chain goes on upwards from there."""
    entry = by_account.get((participant.platform, participant.manager_user_id or ""))
    return node[entry.key] if entry is not None else typed


def _disagreements(person: Person, participant: Participant, entry: OrgEntry,
                   by_key: Mapping[str, OrgEntry],
                   by_account: Mapping[tuple[str, str], OrgEntry]) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    typed_department = (participant.department or "").strip()
    if typed_department and entry.department and (
            typed_department.casefold() != entry.department.strip().casefold()):
        notes.append({"code": "department_differs", "name": person.name,
                      "survey": typed_department, "directory": entry.department})
    if participant.directory_flag is not None:
        # They said the directory is wrong about them: its facts are used all the same.
        notes.append({"code": "directory_flagged", "name": person.name,
                      "note": participant.directory_flag or "–"})
    if participant.manager_user_id:
        named = by_account.get((participant.platform, participant.manager_user_id))
        listed = by_key.get(entry.manager_key or "")
        if named is None or listed is None or named.key != listed.key:
            notes.append({
                "code": "manager_differs", "name": person.name,
                "survey": named.name if named else participant.manager_user_id,
                "directory": listed.name if listed else (entry.manager_key or "–")})
    return notes


def kept_apart(view: OrgView, depth: int, roles: Mapping[Key, str]) -> list[dict[str, Any]]:
    """Mentor/mentee pairs the org chart rules out: one above the other within
    ``depth`` levels, or under the same direct manager; with the source of the fact."""
    apart: list[dict[str, Any]] = []
    lines = 0
    for person_id in sorted(roles, key=int):
        for level, above in enumerate(ancestors(person_id, view.org, depth), start=1):
            if above in roles and roles[above] != roles[person_id] and lines < LISTED:
                lines += 1
                apart.append({"code": "line", "lower": view.names[person_id],
                              "upper": view.names[above], "levels": level,
                              "source": view.sources.get(person_id, SURVEY)})
    teams: dict[Key, list[Key]] = defaultdict(list)
    for person_id in sorted(roles, key=int):
        if person_id in view.org:
            teams[view.org[person_id]].append(person_id)
    siblings = 0
    for manager, members in sorted(teams.items()):
        mentors = [m for m in members if roles[m] == "mentor"]
        mentees = [m for m in members if roles[m] == "mentee"]
        for mentor in mentors:
            for mentee in mentees:
                if siblings < LISTED:
                    siblings += 1
                    apart.append({"code": "team", "mentor": view.names[mentor],
                                  "mentee": view.names[mentee],
                                  "manager": view.names.get(manager, manager),
                                  "source": _both(view, mentor, mentee)})
    return apart


def _both(view: OrgView, a: Key, b: Key) -> str:
    return DIRECTORY if DIRECTORY in (view.sources.get(a), view.sources.get(b)) else SURVEY


def annotate(stored: dict[str, Any], view: OrgView, depth: int, roles: Mapping[Key, str],
             used_directory: bool) -> None:
    """Add to a stored proposal where each pair's org facts came from, what the
    org chart kept apart, and the notes for the coordinators; name the people in
    manager cycles."""
    for pair in stored["pairs"] if used_directory else ():
        pair["explanation"]["org_source"] = _both(view, key(pair["mentor"]), key(pair["mentee"]))
    for warning in stored["warnings"]:
        if warning["code"] == "manager_cycle":
            warning["people"] = [view.names.get(p, p) for p in warning["people"]]
    stored["org"] = {
        "directory": used_directory,
        "from_directory": sum(1 for s in view.sources.values() if s == DIRECTORY),
        "from_survey": sum(1 for s in view.sources.values() if s == SURVEY),
        "notes": view.notes,
        "kept_apart": kept_apart(view, depth, roles) if used_directory else [],
    }
