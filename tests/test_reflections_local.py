"""Reflections at their edges: what a partner reads when one is shared, the rating's
range, the length limits at 1,000 vs 1,001 characters, who may see it.
Through the local platform, a fake clock and the real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters.local.platform import LocalPlatform, LocalUser
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.checkin import TEXT_MAX
from conversations.messages import Paragraph
from conversations.outcomes import FormDone, FormInvalid, ShowForm
from conversations.rhythm import run_due
from storage.db import Database
from storage.models import Response
from tests.helpers.local import CHANNEL, SARAH, last_buttons, matched
from tests.helpers.seed import nameless_tandem


@pytest.fixture
def config(config: AppConfig) -> AppConfig:
    """The rhythm's programme: a local coordinator and channel."""
    return replace(config, coordinators={**config.coordinators, "local": ("coord",)},
                   channels={**config.channels, "local": (CHANNEL,)})


async def reflecting(platform: LocalPlatform, clock: FixedClock) -> None:
    """Sarah (mentee, English) and Ben (mentor, English) met in month 1; Sarah's
    reflection form is open."""
    await matched(platform, clock)
    clock.set(datetime(2027, 2, 9, 16, 0, tzinfo=UTC))
    await run_due(platform.ctx)
    await platform.press(SARAH, "checkin.met", last_buttons(platform, "sarah", "checkin.met"))
    await platform.press(SARAH, "reflect.open", last_buttons(platform, "sarah", "reflect.open"))


async def reflections(db: Database) -> list[Response]:
    async with db.session() as session:
        return list(await session.scalars(
            select(Response).where(Response.kind == "reflection").order_by(Response.id)))


async def test_the_partner_reads_what_was_learned_a_dash_for_nothing_and_the_rating(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await reflecting(platform, clock)
    done = await platform.submit(SARAH, {"learned": "  TikTok <b>basics</b>\n", "try_next": "",
                                         "usefulness": "3", "visibility": "partner"},
                                 form_id="reflection")
    assert isinstance(done, FormDone)
    assert done.message.plain() == t("en", "reflect.saved.partner")
    [shared] = [s.message for s in platform.messenger.inbox["ben"]
                if s.message and s.message.title
                and s.message.title.startswith("Sarah shared")]
    assert shared.title == t("en", "reflect.shared_title", name="Sarah", month=1)
    assert shared.blocks == (
        Paragraph(t("en", "reflect.learned") + "\nTikTok <b>basics</b>"),
        Paragraph(t("en", "reflect.try_next") + "\n–"),
        Paragraph(t("en", "reflect.usefulness") + ": 3/5"),
    )
    # Sarah herself is not sent her own reflection
    assert not any("shared a reflection" in s.text() for s in platform.messenger.inbox["sarah"])


async def test_a_reflection_without_a_rating_is_refused_not_stored_as_zero(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await reflecting(platform, clock)
    for rating in (None, "", "0", "6", "x", "-1"):
        values = {"learned": "Something"} | ({} if rating is None else {"usefulness": rating})
        refused = await platform.submit(SARAH, values, form_id="reflection")
        assert isinstance(refused, FormInvalid), rating
        assert refused.errors == {"usefulness": t("en", "reflect.error.rating")}, rating
        assert refused.values["learned"] == "Something"
    assert await reflections(db) == []
    for rating in ("1", "5"):
        await platform.press(SARAH, "reflect.open",
                             last_buttons(platform, "sarah", "reflect.open"))
        done = await platform.submit(SARAH, {"usefulness": rating}, form_id="reflection")
        assert isinstance(done, FormDone), rating
        [stored] = await reflections(db)
        assert stored.rating == int(rating)
        assert stored.visibility == "private" and stored.answers == {"learned": "",
                                                                     "try_next": ""}
    assert not any("shared a reflection" in s.text() for s in platform.messenger.inbox["ben"])


async def test_texts_of_exactly_the_limit_are_kept_and_one_more_is_refused(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    assert TEXT_MAX == 1000
    await reflecting(platform, clock)
    for field in ("learned", "try_next"):
        refused = await platform.submit(SARAH, {field: "y" * 1001, "usefulness": "4"},
                                        form_id="reflection")
        assert isinstance(refused, FormInvalid)
        assert refused.errors == {field: t("en", "survey.error.too_long", max=1000,
                                           length=1001)}
    assert await reflections(db) == []
    done = await platform.submit(SARAH, {"learned": "l" * 1000, "try_next": "t" * 1000,
                                         "usefulness": "4"}, form_id="reflection")
    assert isinstance(done, FormDone)
    [stored] = await reflections(db)
    assert stored.answers == {"learned": "l" * 1000, "try_next": "t" * 1000}


async def test_an_unknown_visibility_is_refused_and_coordinators_is_kept(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await reflecting(platform, clock)
    refused = await platform.submit(SARAH, {"usefulness": "2", "visibility": "everyone"},
                                    form_id="reflection")
    assert isinstance(refused, FormInvalid)
    assert refused.errors == {"visibility": t("en", "reflect.error.visibility")}
    done = await platform.submit(SARAH, {"usefulness": "2", "visibility": "coordinators"},
                                 form_id="reflection")
    assert isinstance(done, FormDone)
    assert done.message.plain() == t("en", "reflect.saved.coordinators")
    [stored] = await reflections(db)
    assert (stored.rating, stored.visibility) == (2, "coordinators")


async def test_reopening_a_reflection_shows_what_was_saved(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    await reflecting(platform, clock)
    value = last_buttons(platform, "sarah", "reflect.open")
    fresh = await platform.press(SARAH, "reflect.open", value)
    assert isinstance(fresh, ShowForm)
    initial = {f.id: f.initial for f in fresh.form.fields}
    assert initial == {"learned": "", "try_next": "", "usefulness": (),
                       "visibility": ("private",)}
    assert fresh.form.intro == t("en", "reflect.intro", month=1)
    assert [c.value for c in fresh.form.fields[2].choices] == ["1", "2", "3", "4", "5"]
    await platform.submit(SARAH, {"learned": "Reels", "try_next": "Post weekly",
                                  "usefulness": "5", "visibility": "coordinators"},
                          form_id="reflection")
    again = await platform.press(SARAH, "reflect.open", value)
    assert isinstance(again, ShowForm) and again.form.context == value
    assert {f.id: f.initial for f in again.form.fields} == {
        "learned": "Reels", "try_next": "Post weekly", "usefulness": ("5",),
        "visibility": ("coordinators",)}


async def test_what_was_learned_and_what_to_try_may_be_left_empty(
        platform: LocalPlatform, clock: FixedClock) -> None:
    # A reflection can be only a rating: the chat client must not insist on the texts,
    # and offers room for a paragraph in each.
    await reflecting(platform, clock)
    form = platform.open_forms["sarah"]
    fields = {field.id: field for field in form.fields}
    assert not fields["learned"].required and not fields["try_next"].required
    assert fields["learned"].multiline and fields["try_next"].multiline
    assert fields["usefulness"].required and fields["visibility"].required


async def test_a_nameless_author_is_named_by_user_id_to_the_partner(
        platform: LocalPlatform, clock: FixedClock, db: Database) -> None:
    tandem_id, mentor_id, mentee_id = await nameless_tandem(db, platform.ctx.config)
    clock.set(datetime(2027, 3, 10, 12, 0, tzinfo=UTC))  # months 1 and 2 have begun
    mentee = LocalUser(mentee_id, "")
    assert isinstance(await platform.press(mentee, "reflect.open", f"{tandem_id}:1"), ShowForm)
    done = await platform.submit(mentee, {"try_next": "Pair on a bug", "usefulness": "4",
                                          "visibility": "partner"}, form_id="reflection")
    assert isinstance(done, FormDone)
    [shared] = [s.message for s in platform.messenger.inbox[mentor_id] if s.message]
    lang = "de"  # the seeded partner's language
    assert shared.title == t(lang, "reflect.shared_title", name=mentee_id, month=1)
    # Nothing learned written: a dash; what to try: the text.
    assert shared.blocks[:2] == (Paragraph(t(lang, "reflect.learned") + "\n–"),
                                 Paragraph(t(lang, "reflect.try_next") + "\nPair on a bug"))
