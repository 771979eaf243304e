"""Failures per recipient: unreachable people, rate limits, outages, slow recipients."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from adapters.slack.adapter import make_client
from adapters.slack.messenger import SlackMessenger
from bot.core.clock import FixedClock
from bot.core.config import AppConfig
from conversations import outbox
from conversations.context import FlowContext
from conversations.messages import Message
from conversations.outbox import Sent
from conversations.rhythm import run_due
from storage import deliveries
from storage.db import Database
from storage.deliveries import Claim
from storage.models import Delivery, Participant
from tests.fakes.slack_api import FakeSlack
from tests.helpers.live import nudges_per_channel
from tests.helpers.seed import seed_tandems
from tests.helpers.waiting import until

FIRST_NUDGE = datetime(2027, 2, 9, 9, 30, tzinfo=UTC)


def slack_ctx(config: AppConfig, db: Database, slack: FakeSlack) -> FlowContext:
    messenger = SlackMessenger(make_client("xoxb-test", slack.base_url + "api/"))
    return FlowContext(config, FixedClock(FIRST_NUDGE), db, {"slack": messenger})


async def test_an_unreachable_person_is_marked_told_once_and_the_batch_goes_on(
    config: AppConfig, db: Database, slack: FakeSlack
) -> None:
    seeded = await seed_tandems(db, config, 5)
    gone = seeded.tandems[2][1]  # a junior whose account was deactivated
    slack.fail_for[gone] = "user_disabled"
    ctx = slack_ctx(config, db, slack)
    await run_due(ctx, FIRST_NUDGE)
    await run_due(ctx, FIRST_NUDGE.replace(hour=12))

    counts = nudges_per_channel(slack)
    partner = slack.channel_of(seeded.tandems[2][2])
    assert counts[partner] == 1, "the partner still gets the nudge, privately"
    assert sum(counts.values()) == 5 and set(counts.values()) == {1}
    async with db.session() as session:
        marked = await session.scalar(select(Participant.unreachable_at)
                                      .where(Participant.user_id == gone))
    assert marked is not None
    notices = [c for c in slack.of("chat.postMessage") if c["channel"] == "U0COORD01"]
    assert len(notices) == 1 and "Mentor 2" in notices[0]["text"]


async def test_rate_limits_and_outages_are_retried_until_delivered(
    config: AppConfig, db: Database, slack: FakeSlack
) -> None:
    seeded = await seed_tandems(db, config, 4)
    slack.rate_limited["chat.postMessage"] = 3
    slack.retry_after = 1
    slack.server_errors["conversations.open"] = 2
    ctx = slack_ctx(config, db, slack)
    report = await run_due(ctx, FIRST_NUDGE)
    counts = nudges_per_channel(slack)
    assert len(counts) == len(seeded.tandems) and set(counts.values()) == {1}
    assert len(slack.of("chat.postMessage:429")) == 3
    assert len(slack.of("conversations.open:503")) == 2
    assert report.sent["nudge.sent"] == 4


async def test_one_slow_recipient_does_not_hold_up_the_others(
    config: AppConfig, db: Database, slack: FakeSlack
) -> None:
    seeded = await seed_tandems(db, config, 20)
    slow = seeded.tandems[0][1]
    # The slow recipient's calls hang until the other 19 nudges have arrived: if the
    # fan-out waited for the slow one, they never would.
    slack.held_for[slow] = release = asyncio.Event()
    ctx = slack_ctx(config, db, slack)
    task = asyncio.create_task(run_due(ctx, FIRST_NUDGE))
    try:
        await until(lambda: len(nudges_per_channel(slack)) == 19,
                    "the others waited for the slow one")
        assert not task.done()  # and the slow one is still on its way
    finally:
        release.set()
    await task
    assert len(nudges_per_channel(slack)) == 20


async def delivery(db: Database, key: str) -> Delivery:
    async with db.session() as session:
        found = await session.scalar(select(Delivery).where(Delivery.key == key))
    assert found is not None
    return found


async def test_a_postponed_delivery_waits_its_retry_delay_then_goes_out_once(
    config: AppConfig, db: Database, slack: FakeSlack
) -> None:
    ctx = slack_ctx(config, db, slack)
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    first = Claim("nudge:test:0", "nudge", "slack", "U0FINE")
    assert await outbox.direct(ctx, first, "U0FINE", Message.text("Hi")) is Sent.SENT
    assert slack.of("conversations.history") == []  # a first send looks for nothing
    user, item = "U0LATER", Claim("nudge:test:1", "nudge", "slack", "U0LATER")
    slack.fail_for[user] = "x" * 600  # no code Slack documents as final: try again later

    assert await outbox.direct(ctx, item, user, Message.text("Hello")) is Sent.RETRY
    postponed = await delivery(db, item.key)
    assert (postponed.status, postponed.attempts) == ("claimed", 1)
    assert postponed.lease_until == FIRST_NUDGE + outbox.RETRY_AFTER
    assert outbox.RETRY_AFTER == timedelta(minutes=2)
    assert postponed.last_error == ("slack: " + "x" * 600)[:500]

    del slack.fail_for[user]
    clock.set(FIRST_NUDGE + outbox.RETRY_AFTER)  # not before the delay is over
    assert await outbox.direct(ctx, item, user, Message.text("Hello")) is Sent.ALREADY
    assert len(slack.of("chat.postMessage")) == 1  # the first key's only
    clock.set(FIRST_NUDGE + outbox.RETRY_AFTER + timedelta(seconds=1))
    assert await outbox.direct(ctx, item, user, Message.text("Hello")) is Sent.SENT
    sent = await delivery(db, item.key)
    assert (sent.status, sent.attempts, sent.lease_until, sent.last_error) == (
        "sent", 2, None, None)
    posted = slack.of("chat.postMessage")[-1]
    assert posted["channel"] == user and len(slack.of("chat.postMessage")) == 2
    assert sent.message_ref is not None and sent.message_ref.count(":") == 1  # channel:ts
    assert "," not in sent.message_ref and sent.sent_at == clock.now()
    assert await outbox.direct(ctx, item, user, Message.text("Hello")) is Sent.ALREADY
    assert len(slack.of("chat.postMessage")) == 2


async def test_a_take_over_finds_what_a_dead_sender_sent_and_does_not_send_it_again(
    config: AppConfig, db: Database, slack: FakeSlack
) -> None:
    ctx = slack_ctx(config, db, slack)
    item = Claim("intro:test:3", "introduction", "slack", "U0ANNA")
    lease = config.rhythm.claim_lease
    # The dead sender claimed the key and sent the message, tagged, but never marked it.
    async with db.session() as session:
        assert await deliveries.claim(session, item, FIRST_NUDGE, lease) == deliveries.NEW
    dead = ctx.messengers["slack"]
    ref = await dead.send_direct("U0ANNA", Message(title="Welcome", key=item.key))
    ctx.clock.set(FIRST_NUDGE + lease)  # type: ignore[attr-defined]
    assert await outbox.direct(ctx, item, "U0ANNA", Message.text("Welcome")) is Sent.ALREADY
    ctx.clock.set(FIRST_NUDGE + lease + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert await outbox.direct(ctx, item, "U0ANNA", Message.text("Welcome")) is Sent.ALREADY
    assert len(slack.of("chat.postMessage")) == 1  # the dead sender's, found, not repeated
    assert len(slack.of("conversations.history")) == 1
    found = await delivery(db, item.key)
    assert (found.status, found.attempts, found.message_ref) == ("sent", 2, ref)


async def test_an_unreachable_recipient_is_given_up_for_good(
    config: AppConfig, db: Database, slack: FakeSlack
) -> None:
    ctx = slack_ctx(config, db, slack)
    item = Claim("nudge:test:2", "nudge", "slack", "U0GONE")
    slack.fail_for["U0GONE"] = "user_disabled"
    assert await outbox.direct(ctx, item, "U0GONE", Message.text("Hello")) is Sent.UNREACHABLE
    failed = await delivery(db, item.key)
    assert (failed.status, failed.attempts, failed.lease_until, failed.last_error) == (
        "failed", 1, None, "slack: user_disabled")
    del slack.fail_for["U0GONE"]
    ctx.clock.set(FIRST_NUDGE + timedelta(days=1))  # type: ignore[attr-defined]
    assert await outbox.direct(ctx, item, "U0GONE", Message.text("Hello")) is Sent.ALREADY
    assert slack.of("chat.postMessage") == []
