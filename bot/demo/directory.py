"""The demo company's directory: the HR system's export, imported the way a
coordinator does it (``tandem directory import``), before sign-up opens.

The export lists everyone, also the managers who never sign up; people are found
on the chat platform by their e-mail address, as Slack's ``users.lookupByEmail``
finds them. The coordinator sees the import's report in their terminal.
"""

from __future__ import annotations

import csv
import io

from bot.demo.cast import COORDINATOR, HR_COLUMNS, MAIL_DOMAIN, ORG, STAFF
from conversations.context import FlowContext
from conversations.directory_import import ImportReport, import_csv

FILENAME = "hr-export.csv"


def email(user_id: str) -> str:
    return f"{user_id}@{MAIL_DOMAIN}"


def hr_export() -> bytes:
    """The export as Excel writes it in a German office: UTF-8 with a byte-order
    mark, ``;`` between fields."""
    rows = [(p.user_id, p.name, p.department, p.manager) for p in ORG]
    rows += [*STAFF, (COORDINATOR.user_id, "Clara Weber", COORDINATOR.department, "chro")]
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([HR_COLUMNS[name] for name in ("email", "name", "department", "manager")])
    writer.writerows((email(user_id), name, department, email(manager) if manager else "")
                     for user_id, name, department, manager in rows)
    return text.getvalue().encode("utf-8-sig")


class ChatAccounts:
    """The demo's chat platform finding its users by e-mail."""

    platform = "local"

    def __init__(self) -> None:
        user_ids = [p.user_id for p in ORG] + [row[0] for row in STAFF] + [COORDINATOR.user_id]
        self.by_address = {email(user_id): user_id for user_id in user_ids}

    async def by_email(self, address: str) -> str | None:
        return self.by_address.get(address)


async def import_directory(ctx: FlowContext) -> ImportReport:
    return await import_csv(ctx, hr_export(), [ChatAccounts()])
