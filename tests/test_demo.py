"""``tandem demo`` as a new user runs it: one timeline in date order that tells the
whole round, a summary for the coordinator, and a report that ``tandem report``
reproduces from the kept database."""

from __future__ import annotations

import re
import shlex
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers.cli import tandem

# The demo runs once for the module: its tests stay together on one xdist worker.
pytestmark = pytest.mark.xdist_group("demo")

STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2})  (.*)$")

#: The story, in the order it must be told: (what, text that shows it).
STORY = [
    ("the HR export imported, before sign-up", "Clara Weber (HR): tandem directory import"),
    ("the import's report", "Matched to local users: 21 of 21."),
    ("sign-up announcement", "post in #reverse-mentoring (channel)"),
    ("announcement text", "sign-up for round 2027-spring is open"),
    ("a mistake in the form", "errors: topics: Please pick at least one topic."),
    ("corrected", "DM to Martin Schulz"),
    ("the channel reminder", "A few days left to sign up for round 2027-spring"),
    ("the proposal", "Matching proposal #1"),
    ("the skip-level trap, kept apart", "• Lena Hoffmann and Dr. Katrin Vogel: Dr. Katrin "
                                        "Vogel is 2 levels above Lena Hoffmann (company "
                                        "directory)"),
    ("unmatched, with the reason", "• Noah Martin: No senior colleague speaks French."),
    ("a pin", "Clara Weber (HR): /tandem match pin 2"),
    ("confirmed", "Clara Weber (HR): [Confirm 5 tandems]"),
    ("introduction", "group DM to Mehmet Yılmaz and Dr. Katrin Vogel"),
    ("the matching announcement", "Tandems for round 2027-spring are formed"),
    ("a late joiner, after the confirmation", "Claire Dubois: /tandem signup"),
    ("find a time", "Lena Hoffmann: [Find a time]"),
    ("a slot picked", "Lena Hoffmann: [Take 1]"),
    ("the slot proposed", "Lena Hoffmann proposes Monday, 01 Feb 2027, 09:00 (your time)"),
    ("sign-up closed", "Sign-up for round 2027-spring has closed: 6 juniors and 6 seniors"),
    ("the coordinator told someone waits", "2 people in round 2027-spring are waiting"),
    ("matched into the running round", "Matching into the running round 2027-spring"),
    ("the late tandem", "1. Noah Martin → Claire Dubois"),
    ("confirmed", "Clara Weber (HR): [Confirm 1 tandem]"),
    ("accepted", "Sarah Okafor: [Accept]"),
    ("the invite", "📎 tandem-1.ics"),
    ("kick-off", "Your tandem starts today"),
    ("the check-in after the meeting", "You had your tandem meeting on Monday, 01 Feb 2027"),
    ("a reflection, right after that meeting", "Lena Hoffmann: ✎ Reflection"),
    ("the fit check, privately", "Does this pairing work for you?"),
    ("first nudge", "Tandem: time for meeting 1"),
    ("put off", "Mia Schneider: [Not yet, remind me in a week]"),
    ("a no", "Thomas Berger: [No]"),
    ("the coordinators told who said it",
     "Thomas Berger says the pairing with Sophie Wagner does not work"),
    ("the one who said no, thanked", "your partner will not learn that it was you"),
    ("the re-match", "Clara Weber (HR): [Re-match both]"),
    ("the partner told, in German, not who said it",
     "DM to Sophie Wagner\n    Euer Tandem endet"),
    ("the one who said no told the same", "DM to Thomas Berger\n    Your tandem ends here"),
    ("the reminder", "Reminder: meeting 1"),
    ("the reminder answered", "Mia Schneider: [We met]"),
    ("we need help", "Jamal Brooks: [We need help]"),
    ("the coordinator alerted", "(round 2027-spring) asked for help"),
    ("stalled tandem", "Mehmet Yılmaz → Dr. Katrin Vogel (round 2027-spring) has not met "
                       "for 2 months"),
    ("a break with an end", "Priya Raman: ✎ Take a break"),
    ("until a date", "You are on a break until 10 May 2027"),
    ("the pulse", "Half-way: how is your tandem going?"),
    ("the break ends by itself", "DM to Priya Raman\n    Your break is over"),
    ("the partner is told", "Priya Raman is back from their break"),
    ("last nudge", "Tandem: time for meeting 6"),
    ("evaluation invitation", "Round 2027-spring is over: how was it?"),
    ("wrap-up in the channel", "Round 2027-spring is complete"),
    ("evaluation answered", "Jamal Brooks: ✎ Evaluation"),
    ("a highlight offered, with the name", "Noah Martin offers this highlight"),
    ("the coordinator approves it", "Clara Weber (HR): [Approve]"),
    ("two weeks later, the highlights in the channel", "Highlights of round 2027-spring"),
    ("named, as agreed", "(Lena Hoffmann)"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    kept = tmp_path_factory.mktemp("demo") / "demo.db"
    result = tandem("demo", "--keep", str(kept), timeout=300)
    assert result.returncode == 0, result.stderr
    # Nothing but the story: no log line, no refused button on either stream.
    assert result.stderr == ""
    assert not re.search(r"^\d{4}-\d{2}-\d{2} [\d:,]+ (DEBUG|INFO|WARNING|ERROR) ", result.stdout,
                         re.MULTILINE)
    assert "no longer in use" not in result.stdout
    return result.stdout, kept


def test_the_summary_comes_first_and_names_the_report(demo: tuple[str, Path]) -> None:
    out, kept = demo
    summary, timeline = out.split("Everything that happened, in date order", 1)
    assert summary.splitlines()[1] == ("Reverse Mentoring, round 2027-spring: what happened "
                                       "(a demo on a local chat platform)")
    assert "Sign-up: 12 people (6 seniors who learn, 6 juniors who mentor)" in summary
    assert ("Directory: 21 people from the HR system's export, imported on 2026-11-01"
            in summary)
    assert "Matching: 5 tandems confirmed on 2027-01-15" in summary
    assert "Not matched: Noah Martin: No senior colleague speaks French." in summary
    assert ("Late joiner: Claire Dubois signed up on 2027-01-15, after the tandems were "
            "confirmed, and was matched into the running round on 2027-01-16.") in summary
    assert ("Fit check: after the first meeting Thomas Berger said privately, on 2027-02-13, "
            "that the pairing does not work") in summary
    assert ("Break: Priya Raman paused on 2027-04-19 until 10 May 2027; the break ended by "
            "itself that day") in summary
    assert "Meetings: 24 reported" in summary
    assert "1 tandem stalled, flagged to the coordinator on 2027-04-13" in summary
    report = Path(re.findall(r"Report for the board: (\S+)", summary)[0])
    assert report.parent == kept.parent and report.read_text().startswith("<!DOCTYPE html>")
    assert STAMP.match(next(line for line in timeline.splitlines()[1:] if line))


def test_one_timeline_in_date_order_tells_the_whole_round(demo: tuple[str, Path]) -> None:
    out, _ = demo
    stamps = [datetime.fromisoformat(m.group(1)) for line in out.splitlines()
              if (m := STAMP.match(line))]
    assert len(stamps) > 100 and stamps == sorted(stamps)
    position = 0
    for what, text in STORY:
        found = out.find(text, position)
        assert found >= 0, f"{what!r} ({text!r}) missing or out of order"
        position = found


def test_every_paragraph_is_shown_once_and_user_text_is_escaped(
    demo: tuple[str, Path]
) -> None:
    out, _ = demo
    paragraphs = Counter(line.strip() for line in out.splitlines()
                         if line.startswith("    ") and len(line.strip()) >= 60)
    assert [p for p, n in paragraphs.items() if n > 1] == []
    assert "<!channel>" not in out and "Show how ‹!channel› LinkedIn really works." in out


def test_the_low_scoring_pair_hears_why_it_is_still_the_best(demo: tuple[str, Path]) -> None:
    out, _ = demo
    [intro] = [block for block in out.split("\n\n")
               if "group DM to Mehmet Yılmaz and Dr. Katrin Vogel" in block
               and "Meet your tandem partner" in block]
    assert "the best pairing this round allowed" in intro and "Match score: 57" in intro
    [kickoff] = [block for block in out.split("\n\n")
                 if "group DM to Mehmet Yılmaz and Dr. Katrin Vogel" in block
                 and "Your tandem starts today" in block]
    assert "propose two times for your first hour" in kickoff


def test_the_directory_keeps_the_juniors_skip_level_boss_apart(
    demo: tuple[str, Path]
) -> None:
    out, _ = demo
    [proposal] = [block for block in out.split("\n\n") if "Matching proposal #1" in block]
    # Lena's manager never signs up; only the directory knows the CEO is above her.
    assert "Org chart: 11 of the people found in the company directory" in proposal
    assert ("• Lena Hoffmann and Dr. Katrin Vogel: Dr. Katrin Vogel is 2 levels above "
            "Lena Hoffmann (company directory)") in proposal
    assert "3. Lena Hoffmann → Sarah Okafor · 76" in proposal
    assert "Lena Hoffmann → Dr. Katrin Vogel" not in out
    assert "Please check" not in proposal  # the survey and the directory agree


def test_without_the_directory_the_ceo_would_be_the_juniors_partner() -> None:
    """The demo's trap is real: by the survey alone, the CEO is Lena's best partner
    and the matching would pair them."""
    from bot.demo import demo_config
    from bot.demo.cast import LATE, ORG
    from bot.matching.engine import match
    from bot.matching.model import Person, Rules, Weights

    settings = demo_config("en").matching
    people = [Person(id=p.user_id, name=p.name, role=p.role,  # type: ignore[arg-type]
                     department=p.department, topics=frozenset(p.topics),
                     languages=frozenset(p.languages), meeting_mode=p.mode,  # type: ignore[arg-type]
                     capacity=p.capacity) for p in ORG if p is not LATE]
    typed = {p.user_id: p.manager for p in ORG if p.manager and p is not LATE}
    rules = Rules(reporting_line_depth=settings.reporting_line_depth,
                  forbid_same_department=settings.forbid_same_department,
                  weights=Weights(**settings.weights))
    result = match(people, rules, typed)
    assert ("lena", "ceo") in {(t.mentor_id, t.mentee_id) for t in result.tandems}


def test_each_person_sees_their_own_language(demo: tuple[str, Path]) -> None:
    out, _ = demo
    # Sophie keeps German in an English demo; her partner reads both languages.
    assert "Sophie Wagner: [Reflektieren]" in out and "Lena Hoffmann: [Reflect]" in out
    assert "Tandem: time for meeting 1 / Tandem: Zeit für Treffen 1" in out


def test_tandem_report_on_the_kept_database_agrees(demo: tuple[str, Path],
                                                   tmp_path: Path) -> None:
    out, kept = demo
    [command] = re.findall(r"The same report from the kept database: (.*)", out)
    words = shlex.split(command)
    env = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    args = words[words.index(".venv/bin/tandem") + 1:]
    again = tmp_path / "again.html"
    args[args.index("-o") + 1] = str(again)
    result = tandem(*args, env=env)
    assert result.returncode == 0, result.stderr
    report = Path(re.findall(r"Report for the board: (\S+)", out)[0])
    assert again.read_bytes() == report.read_bytes()
    assert result.stdout.endswith("the figures as of 2027-08-15 10:00\n")
    assert str(kept) in env["DATABASE_URL"]


def test_german_narration_for_one_person_only(tmp_path: Path) -> None:
    result = tandem("--language", "de", "demo", "--person", "lena", "--keep",
                    str(tmp_path / "d.db"), timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Anmeldung: 12 Personen" in out
    headings = [m.group(2) for line in out.splitlines() if (m := STAMP.match(line))]
    assert headings and all("Lena Hoffmann" in h or "(Kanal)" in h for h in headings)
    assert "Du bist angemeldet" in out and "Direktnachricht an Martin Schulz" not in out


def test_quiet_prints_the_summary_only(tmp_path: Path) -> None:
    result = tandem("demo", "--quiet", "--keep", str(tmp_path / "q.db"), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Report for the board:" in result.stdout
    assert not any(STAMP.match(line) for line in result.stdout.splitlines())
