"""How a person's survey answers and dates read back to them."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.config import AppConfig
from bot.core.i18n import t, t_or
from storage.models import Participant


def format_day(moment: date, language: str) -> str:
    """A day as the language writes it (catalogue key ``format.day``, a strftime format)."""
    return moment.strftime(t(language, "format.day"))


def format_moment(moment: datetime, language: str) -> str:
    """A day and a time of day as the language writes them (``format.moment``)."""
    return moment.strftime(t(language, "format.moment"))


def topic_labels(config: AppConfig, topic_ids: list[str], language: str) -> str:
    labels = []
    for topic_id in topic_ids:
        topic = config.survey.topic(topic_id)
        labels.append(topic.label(language) if topic else topic_id)
    return ", ".join(labels)


def answer_facts(
    config: AppConfig, person: Participant, language: str
) -> tuple[tuple[str, str], ...]:
    """Label/value pairs of what the person answered, in their language."""
    none = t(language, "summary.none")
    facts = [
        (t(language, "summary.role"), t(language, f"role.{person.role}")),
        (t(language, "summary.topics"), topic_labels(config, person.topics, language) or none),
        (
            t(language, "summary.languages"),
            ", ".join(t_or(language, f"language.{code}", code) for code in person.languages),
        ),
        (
            t(language, "summary.meeting_mode"),
            t(language, f"survey.meeting_mode.{person.meeting_mode}"),
        ),
    ]
    if person.department:
        facts.insert(1, (t(language, "summary.department"), person.department))
    if person.location:
        facts.append((t(language, "summary.location"), person.location))
    if person.role == "mentee":
        facts.append((t(language, "summary.capacity"), str(person.capacity)))
    if person.goals:
        facts.append((t(language, "summary.goals"), person.goals))
    return tuple(facts)
