"""Every language has every key, and the command list, the locale rules and the
catalogues agree. Languages are the catalogue folders: a new one is checked too."""

from __future__ import annotations

import string
from datetime import date

import pytest

import adapters.teams  # noqa: F401  (its catalogues hold the Teams menu lines)
from bot.core.i18n import LANGUAGES, catalogue, t
from conversations.command_list import COMMANDS, NAMES, TEAMS_MENU_MAX, teams_menus, words
from conversations.reporting import number, percent
from conversations.summary import format_day


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_there_is_more_than_one_language() -> None:
    assert len(LANGUAGES) >= 2 and "en" in LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_key_with_the_same_placeholders(language: str) -> None:
    others = [other for other in LANGUAGES if other != language]
    every = set().union(*(catalogue(other) for other in LANGUAGES))
    assert sorted(every - set(catalogue(language))) == []
    for key, template in catalogue(language).items():
        for other in others:
            if key in catalogue(other):
                assert fields(template) == fields(catalogue(other)[key]), (key, other)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_command_has_its_words_help_and_menu_line(language: str) -> None:
    for name in NAMES:
        for key in (f"command.{name}", f"help.{name}", f"teams.app.command.{name}"):
            assert t(language, key), key
        assert words()[t(language, f"command.{name}").lower()] == name


@pytest.mark.parametrize("language", LANGUAGES)
def test_locale_rules_come_from_the_catalogue(language: str) -> None:
    day = format_day(date(2027, 3, 2), language)
    assert "2027" in day and ("03" in day or "Mar" in day)
    assert number(2.5, language) == f"2{t(language, 'format.decimal_separator')}5"
    assert percent(1, 4, language) == t(language, "format.percent", value=25)


def test_known_locale_rules_stay() -> None:
    assert format_day(date(2027, 3, 2), "de") == "02.03.2027"
    assert format_day(date(2027, 3, 2), "en") == "02 Mar 2027"
    assert (number(2.5, "de"), number(2.5, "en")) == ("2,5", "2.5")
    assert (percent(1, 4, "de"), percent(1, 4, "en")) == ("25\u00a0%", "25%")


def test_teams_menus_hold_every_command_within_teams_limits() -> None:
    menus = teams_menus()
    assert all(0 < len(names) <= TEAMS_MENU_MAX for names in menus.values())
    assert {name for names in menus.values() for name in names} == set(NAMES)
    assert len(COMMANDS) == len(set(NAMES))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_singular_stands_beside_its_plural_and_asks_for_nothing_more(language: str) -> None:
    texts = catalogue(language)
    singulars = [key for key in texts if key.endswith(".one")]
    assert singulars
    for key in singulars:
        plural = key.removesuffix(".one")
        assert plural in texts, key
        assert fields(texts[key]) <= fields(texts[plural]) - {"count"}, key


def test_one_takes_the_singular_and_every_other_count_the_plural() -> None:
    assert t("en", "match.confirm_button", count=1) == "Confirm 1 tandem"
    assert t("en", "match.confirm_button", count=2) == "Confirm 2 tandems"
    assert t("en", "match.confirm_button", count=0) == "Confirm 0 tandems"
    assert t("de", "match.confirm_button", count=1) == "1 Tandem bestätigen"
    assert t("de", "doctor.problems", count=3) == "3 Probleme gefunden"
