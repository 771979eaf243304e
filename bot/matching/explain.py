"""Tandems, unmatched people and warnings in words, from the message catalogues."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.i18n import MissingMessage, t
from bot.matching.model import MatchWarning, Tandem, Unmatched

TopicLabels = Mapping[str, Mapping[str, str]]
#: Below this score a tandem is told why it is still the best pairing there was.
LOW_SCORE = 60


def describe_tandem(
    tandem: Tandem,
    for_person: str,
    lang: str,
    topic_labels: TopicLabels | None = None,
) -> str:
    """Why this tandem fits, told to ``for_person`` (the mentor's or the mentee's id)."""
    if for_person not in (tandem.mentor_id, tandem.mentee_id):
        raise ValueError(f"{for_person!r} is not part of this tandem")
    role = "mentor" if for_person == tandem.mentor_id else "mentee"
    partner = tandem.mentee_name if role == "mentor" else tandem.mentor_name
    why = tandem.explanation
    labels = topic_labels or {}
    clauses = []
    if why.shared_topics:
        clauses.append(t(lang, "matching.tandem.shared_topics",
                         topics=_topics(why.shared_topics, lang, labels)))
    if why.offered_wished:
        clauses.append(t(lang, f"matching.tandem.offered.{role}", name=partner,
                         topics=_topics(why.offered_wished, lang, labels)))
    if not clauses:
        clauses.append(t(lang, "matching.tandem.no_topics", name=partner))
    sentences = [t(lang, "matching.list.clauses").join(clauses)]
    sentences.append(t(lang, f"matching.tandem.mode.{_mode_key(tandem)}"))
    if why.same_location and why.mode_compatible and "remote" not in (
        why.mentor_mode, why.mentee_mode
    ):
        sentences.append(t(lang, "matching.tandem.same_location"))
    if why.tz_difference_hours is not None:
        if why.tz_difference_hours == 0:
            sentences.append(t(lang, "matching.tandem.tz.same"))
        elif why.tz_difference_hours == 1:
            sentences.append(t(lang, "matching.tandem.tz.apart_one"))
        else:
            hours = _number(why.tz_difference_hours, lang)
            sentences.append(t(lang, "matching.tandem.tz.apart", hours=hours))
    if why.languages:
        sentences.append(t(lang, "matching.tandem.languages",
                           languages=join(_languages(why.languages, lang), lang, "last")))
    if tandem.pinned:
        sentences.append(t(lang, "matching.tandem.pinned"))
    elif tandem.score < LOW_SCORE:
        # A low score reads like a mistake unless people hear why it is still the best.
        sentences.append(t(lang, "matching.tandem.best_possible"))
    # Whole points: "75.94 of 100" reads like false precision to the people matched.
    sentences.append(t(lang, "matching.tandem.score", score=f"{tandem.score:.0f}"))
    return " ".join(t(lang, "matching.sentence", text=s) for s in sentences)


def describe_unmatched(u: Unmatched, lang: str) -> str:
    """Why ``u`` got no tandem, addressed to that person."""
    params = dict(u.params)
    codes = [c for c in str(params.get("languages", "")).split(", ") if c]
    params["languages"] = join(_languages(codes, lang), lang, "or")
    reason = u.reason
    if reason == "capacity" and params.get("candidates") == 1:
        reason = "capacity_one"
    text = t(lang, f"matching.reason.{reason}.{u.role}", name=u.name, **params)
    return t(lang, "matching.sentence", text=text)


def describe_warning(w: MatchWarning, lang: str) -> str:
    """A data problem, for the coordinators."""
    params: dict[str, str | int] = dict(w.params)
    if w.code == "manager_cycle":
        people = t(lang, "matching.cycle.arrow").join([*w.person_ids, w.person_ids[0]])
    else:
        people = join(list(w.person_ids), lang, "last")
    if "rule" in params:
        params["rule"] = t(lang, f"matching.rule.{params['rule']}")
    return t(lang, "matching.sentence",
             text=t(lang, f"matching.warning.{w.code}", **{**params, "people": people}))


def join(items: Sequence[str], lang: str, last: str) -> str:
    """'A, B and C' (``last`` = "last") or 'A, B or C' (``last`` = "or")."""
    if len(items) <= 1:
        return "".join(items)
    key = "matching.list.last" if last == "last" else "matching.list.or"
    return t(lang, "matching.list.separator").join(items[:-1]) + t(lang, key) + items[-1]


def _topics(ids: Sequence[str], lang: str, labels: TopicLabels) -> str:
    def label(topic: str) -> str:
        names = labels.get(topic, {})
        return names.get(lang) or next(iter(names.values()), topic)

    return join([label(x) for x in ids], lang, "last")


def _languages(codes: Sequence[str], lang: str) -> list[str]:
    names = []
    for code in codes:
        try:
            names.append(t(lang, f"matching.language.{code.lower()}"))
        except MissingMessage:
            names.append(code)  # a language without a catalogue name: show its code
    return names


def _mode_key(tandem: Tandem) -> str:
    why = tandem.explanation
    modes = {why.mentor_mode, why.mentee_mode}
    if not why.mode_compatible:
        return "mismatch"
    if modes == {"remote"}:
        return "remote"
    if modes == {"in_person"}:
        return "in_person"
    return "flexible"


def _number(value: float, lang: str) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", t(lang, "matching.decimal_separator"))
