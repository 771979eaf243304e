"""From stored sign-ups to the matching engine's input, and its result back to rows."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from typing import Any

from bot.core.config import AppConfig
from bot.core.i18n import FALLBACK, LANGUAGES
from bot.matching.model import Explanation, MatchResult, Person, Rules, Tandem, Weights
from storage.models import MatchRule, Participant, ParticipantStatus

Key = str


def key(participant_id: int) -> Key:
    return str(participant_id)


def people_and_org(
    participants: list[Participant],
) -> tuple[list[Person], dict[Key, Key]]:
    """Engine persons keyed by participant id; the org chart links them by the
    manager each person named, whether or not that manager signed up."""
    by_user = {(p.platform, p.user_id): key(p.id) for p in participants}
    people: list[Person] = []
    org: dict[Key, Key] = {}
    for p in participants:
        people.append(Person(
            id=key(p.id), name=p.display_name or p.user_id, role=p.role,  # type: ignore[arg-type]
            department=p.department, manager_id=None,
            topics=frozenset(p.topics), languages=frozenset(p.languages),
            meeting_mode=p.meeting_mode,  # type: ignore[arg-type]
            timezone=p.timezone, location=p.location,
            capacity=p.capacity if p.role == "mentee" else 1,
            language=p.locale if p.locale in LANGUAGES else FALLBACK,
            available=p.status == ParticipantStatus.ACTIVE and p.unreachable_at is None,
        ))
        if p.manager_user_id:
            org[key(p.id)] = by_user.get(
                (p.platform, p.manager_user_id), f"ext:{p.platform}:{p.manager_user_id}"
            )
    return people, org


def engine_rules(
    config: AppConfig, earlier: list[tuple[int, int]], rules: list[MatchRule],
    wishes: Collection[tuple[int, int]] = (),
) -> Rules:
    """app.yaml's rules, earlier pairs, the coordinators' pins and blocks, and the
    pairs private wishes rule out (participant ids, either order)."""
    settings = config.matching
    return Rules(
        reporting_line_depth=settings.reporting_line_depth,
        forbid_same_department=settings.forbid_same_department,
        allow_repeat_pairs=settings.allow_repeat_pairs,
        previous_pairs=frozenset((key(m), key(s)) for m, s in earlier),
        pins=frozenset((key(r.mentor_id), key(r.mentee_id)) for r in rules if r.kind == "pin"),
        blocks=frozenset(
            (key(r.mentor_id), key(r.mentee_id)) for r in rules if r.kind == "block"
        ),
        wishes=frozenset((key(a), key(b)) for a, b in wishes),
        weights=Weights(**settings.weights) if settings.weights else Weights(),
        fairness=settings.fairness,
    )


def result_to_json(result: MatchResult) -> dict[str, Any]:
    """What a proposal stores: enough to show it, export it and confirm it later."""
    return {
        "pairs": [
            {
                "mentor": int(tandem.mentor_id), "mentee": int(tandem.mentee_id),
                "mentor_name": tandem.mentor_name, "mentee_name": tandem.mentee_name,
                "score": round(float(tandem.score), 2), "pinned": tandem.pinned,
                "explanation": _plain(asdict(tandem.explanation)),
            }
            for tandem in result.tandems
        ],
        "unmatched": [
            {"participant": int(u.person_id), "name": u.name, "role": u.role,
             "reason": u.reason, "params": dict(u.params)}
            for u in result.unmatched
        ],
        "warnings": [
            {"code": w.code, "people": list(w.person_ids), "params": dict(w.params)}
            for w in result.warnings
        ],
        "total": round(float(result.total_score), 2),
        "average": round(float(result.average_score), 2),
        "worst": None if result.worst_score is None else round(float(result.worst_score), 2),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def tandem_from_json(pair: dict[str, Any]) -> Tandem:
    known = Explanation.__dataclass_fields__
    # Stored explanations may carry more (where the org facts came from): not the engine's.
    why = {name: value for name, value in pair["explanation"].items() if name in known}
    for name in ("offered_wished", "shared_topics", "languages"):
        why[name] = tuple(why.get(name) or ())
    return Tandem(
        mentor_id=key(pair["mentor"]), mentee_id=key(pair["mentee"]),
        mentor_name=pair["mentor_name"], mentee_name=pair["mentee_name"],
        score=pair["score"], explanation=Explanation(**why), pinned=pair.get("pinned", False),
    )
