"""Announcements in the programme channels: composed in chat, or planned in app.yaml.

Who sees what, in order:
1. A coordinator types ``announce`` (Slack ``/tandem announce``, Teams also
   ``ankündigen``). Anyone else is refused: nothing is stored, nothing posted.
2. The compose form, privately: the channel (one of app.yaml's channels on
   this platform), the text (at most 3000 characters, checked here too) and
   "add a Sign up button".
3. The preview arrives in the coordinator's DM: exactly the message the
   channel will see, with "Post", "Edit" and "Cancel". The draft is kept in the
   database, not in the button. The preview is the answer to the form, sent
   directly, not owed: a draft changes nothing anybody else sees (nothing is
   posted before "Post"), and when the preview is lost (a crash before it was
   sent) the form never says "preview sent", so the coordinator knows to send it
   again; the draft left behind is never posted. What "Post" causes is owed.
4. "Post" posts it once through the outbox, however often and by however many
   coordinators it is pressed; "Edit" reopens the form with the draft;
   "Cancel" drops it. The "Sign up" button starts the sign-up for whoever
   presses it. Every step is audited.
5. Announcements planned in app.yaml (``announcements``) are posted by the
   rhythm at their time, once, in the programme's language (the kind
   ``scheduled_announcement`` in ``conversations.scheduled``).
All text is plain: the adapters escape it, so nothing typed becomes a mention,
a link or markup (Slack ``plain_text`` and escaped fallback, Teams ``TextRun``).
"""

from __future__ import annotations

from typing import Any

from bot.core.config import ANNOUNCEMENT_MAX
from bot.core.errors import UserError
from bot.core.i18n import t
from conversations import values
from conversations.context import FlowContext
from conversations.coordination import audit, require_coordinator
from conversations.events import Actor, ButtonPress, Command, FormSubmission, FormValue
from conversations.forms import Choice, Form, SelectInput, TextInput
from conversations.messages import Button, Message, Paragraph, command_button
from conversations.outbox import Sent
from conversations.outcomes import FormDone, FormInvalid, Outcome, ShowForm, reply
from conversations.owed import CHANNEL, Owed, deliver, record
from storage import coordination, deliveries, rounds
from storage.deliveries import Claim
from storage.models import ActionStatus, CoordinatorAction, DeliveryStatus

FORM_ID = "announce"
POST, EDIT, CANCEL = "announce.post", "announce.edit", "announce.cancel"
KIND = "announcement"


async def command(ctx: FlowContext, cmd: Command) -> Outcome:
    actor = cmd.actor
    require_coordinator(ctx, actor)
    return ShowForm(compose_form(ctx, actor, _channels(ctx, actor)))


def _channels(ctx: FlowContext, actor: Actor) -> tuple[str, ...]:
    channels = ctx.config.channels.get(actor.platform, ())
    if not channels:
        raise UserError("announce.no_channels")
    return channels


def compose_form(ctx: FlowContext, actor: Actor, channels: tuple[str, ...],
                 draft: dict[str, Any] | None = None, draft_id: int | None = None) -> Form:
    language = ctx.language(actor.locale)
    draft = draft or {}
    chosen = draft.get("channel") or (channels[0] if len(channels) == 1 else None)
    return Form(
        id=FORM_ID,
        title=t(language, "announce.form_title"),
        submit_label=t(language, "announce.form_submit"),
        cancel_label=t(language, "announce.form_cancel"),
        intro=t(language, "announce.form_intro"),
        fields=(
            SelectInput("channel", t(language, "announce.channel"),
                        tuple(Choice(c, c) for c in channels),
                        initial=(chosen,) if chosen else ()),
            TextInput("text", t(language, "announce.text"), initial=draft.get("text", ""),
                      multiline=True, max_length=ANNOUNCEMENT_MAX,
                      hint=t(language, "announce.text_hint", max=ANNOUNCEMENT_MAX)),
            SelectInput("signup_button", t(language, "announce.signup_button"),
                        (Choice("yes", t(language, "announce.signup_button_yes")),),
                        initial=("yes",) if draft.get("signup_button") else (),
                        required=False, multi=True, style="checkboxes"),
        ),
        context=str(draft_id or ""),
    )


def _text(value: FormValue) -> str:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) else ""


async def submit(ctx: FlowContext, submission: FormSubmission) -> Outcome:
    actor = submission.actor
    require_coordinator(ctx, actor)
    language = ctx.language(actor.locale)
    channels = _channels(ctx, actor)
    fields = submission.values
    channel, text = _text(fields.get("channel")), _text(fields.get("text"))
    checked = fields.get("signup_button")
    signup = "yes" in checked if isinstance(checked, list) else checked == "yes"
    errors: dict[str, str] = {}
    if channel not in channels:
        errors["channel"] = t(language, "announce.error_channel")
    if not text:
        errors["text"] = t(language, "announce.error_empty")
    elif len(text) > ANNOUNCEMENT_MAX:
        errors["text"] = t(language, "announce.error_long", max=ANNOUNCEMENT_MAX,
                           length=len(text))
    draft_id = values.optional_number(submission.context)
    if errors:
        form = compose_form(ctx, actor, channels, None, draft_id)
        return FormInvalid(form, errors, dict(fields))
    payload = {"channel": channel, "text": text, "signup_button": signup}
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        if draft_id is not None:
            existing = await coordination.action_by_id(session, draft_id)
            if existing is None or existing.kind != KIND or existing.platform != actor.platform \
                    or not await coordination.update_payload(session, draft_id, payload):
                raise UserError("announce.already_decided")
            action_id = draft_id
        else:
            current = await rounds.sync_round(session, ctx.config.round, now)
            action = await coordination.create_action(session, KIND, actor.platform, actor.user_id,
                                                      current.id, payload, now)
            action_id = action.id
    await audit(ctx, actor, "announce.draft", draft=action_id, channel=channel,
                length=len(text), signup_button=signup)
    preview = preview_message(ctx, language, action_id, payload)
    await ctx.messenger(actor.platform).send_direct(actor.user_id, preview)
    return FormDone(Message.text(t(language, "announce.preview_sent")))


def channel_message(ctx: FlowContext, text: str, signup_button: bool) -> Message:
    """What the channel sees: the text as typed, as plain text; optionally "Sign up"."""
    language = ctx.config.default_language
    buttons = (Button(command_button("signup"), t(language, "rhythm.signup_button"),
                      style="primary"),) if signup_button else ()
    return Message(blocks=(Paragraph(text),), buttons=buttons)


def preview_message(ctx: FlowContext, language: str, action_id: int,
                    payload: dict[str, Any]) -> Message:
    posted = channel_message(ctx, payload["text"], payload["signup_button"])
    blocks = [Paragraph(t(language, "announce.preview_intro", channel=payload["channel"])),
              *posted.blocks]
    if posted.buttons:
        blocks.append(Paragraph(t(language, "announce.preview_with_button",
                                  label=posted.buttons[0].label)))
    value = str(action_id)
    return Message(
        title=t(language, "announce.preview_title"),
        blocks=tuple(blocks),
        buttons=(Button(POST, t(language, "announce.post"), value, "primary"),
                 Button(EDIT, t(language, "announce.edit"), value),
                 Button(CANCEL, t(language, "announce.cancel"), value, "danger")),
    )


async def _draft(ctx: FlowContext, press: ButtonPress) -> CoordinatorAction:
    require_coordinator(ctx, press.actor)
    async with ctx.db.session() as session:
        return await values.row(
            session, coordination.action_by_id, press.value,
            lambda action: action.kind == KIND and action.platform == press.actor.platform)


async def post(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    language = ctx.language(actor.locale)
    action = await _draft(ctx, press)
    payload = action.payload
    if action.status == ActionStatus.CANCELLED:
        raise UserError("announce.already_decided")
    if payload["channel"] not in ctx.config.channels.get(action.platform, ()):
        raise UserError("announce.error_channel")
    claim = Claim(f"announcement:{action.id}", KIND, action.platform, payload["channel"],
                  action.round_id)
    message = channel_message(ctx, payload["text"], payload["signup_button"])
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        # Decided and owed in one transaction: once "Post" is taken, the post goes out
        # (now, or from ``run_due`` after a crash or an outage), once.
        won = await coordination.decide(session, action.id, ActionStatus.DONE, actor.user_id,
                                        now)
        if won:
            await record(session, [Owed(claim, CHANNEL, (payload["channel"],), message)], now)
    [sent] = await deliver(ctx, [claim.key])
    if won:
        await audit(ctx, actor, "announce.post", draft=action.id, channel=payload["channel"])
    if sent is Sent.SENT:
        return reply(t(language, "announce.posted", channel=payload["channel"]), replace=True)
    if sent is Sent.ALREADY:
        async with ctx.db.session() as session:
            status = await deliveries.status_of(session, claim.key)
        if status is None:
            raise UserError("announce.already_decided")
        if status == DeliveryStatus.FAILED:
            raise UserError("announce.unreachable", channel=payload["channel"])
        key = "announce.already_posted" if status == DeliveryStatus.SENT else "announce.posting"
        return reply(t(language, key, channel=payload["channel"]), replace=True)
    if sent is Sent.UNREACHABLE:
        raise UserError("announce.unreachable", channel=payload["channel"])
    raise UserError("announce.retry_later")


async def edit(ctx: FlowContext, press: ButtonPress) -> Outcome:
    action = await _draft(ctx, press)
    if action.status != ActionStatus.PENDING:
        raise UserError("announce.already_decided")
    channels = _channels(ctx, press.actor)
    return ShowForm(compose_form(ctx, press.actor, channels, action.payload, action.id))


async def cancel(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    action = await _draft(ctx, press)
    async with ctx.db.session() as session:
        won = await coordination.decide(session, action.id, ActionStatus.CANCELLED, actor.user_id,
                                        ctx.clock.now())
    if not won:
        raise UserError("announce.already_decided")
    await audit(ctx, actor, "announce.cancel", draft=action.id)
    return reply(t(ctx.language(actor.locale), "announce.cancelled"), replace=True)


