"""The demo's company: who signs up, with which answers, and how each tandem behaves."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.local.platform import LocalUser


@dataclass(frozen=True)
class Employee:
    user_id: str
    name: str
    role: str
    department: str
    manager: str | None
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    #: The person's own language; None: the language the demo runs in.
    locale: str | None = None
    mode: str = "either"
    capacity: int = 1
    goals: str = ""
    #: How the tandem behaves (juniors only): "meets" every month and reflects,
    #: "late" (meets after a reminder), "help" (asks for help once), "quiet".
    habit: str = "meets"

    def user(self, language: str) -> LocalUser:
        return LocalUser(self.user_id, self.name, self.locale or language)

    def answers(self) -> dict[str, object]:
        return {
            "role": self.role, "department": self.department, "manager": self.manager,
            "topics": list(self.topics), "goals": self.goals,
            "languages": list(self.languages), "meeting_mode": self.mode,
            "capacity": str(self.capacity), "consent": ["yes"],
        }


# A small company: the board and heads of department learn, juniors teach. Two
# people keep their own language whatever the demo's: each sees their own.
SENIORS: tuple[Employee, ...] = (
    Employee("ceo", "Dr. Katrin Vogel", "mentee", "Executive Board", None,
             ("ai_tools", "social_media", "genz"), ("de", "en"),
             goals="Understand how young colleagues use AI every day."),
    Employee("cfo", "Martin Schulz", "mentee", "Finance", "ceo",
             ("agile", "digital_tools"), ("de", "en"), mode="in_person"),
    Employee("chro", "Sarah Okafor", "mentee", "Human Resources", "ceo",
             ("employer_branding", "genz", "diversity"), ("en", "de"), locale="en"),
    Employee("cso", "Thomas Berger", "mentee", "Sales", "ceo",
             ("social_media", "remote"), ("de", "en"), mode="remote"),
    Employee("cio", "Priya Raman", "mentee", "IT", "ceo",
             ("sustainability", "mental_health"), ("en",)),
)
JUNIORS: tuple[Employee, ...] = (
    # Reports to the head of marketing, who never signs up and reports to the CEO:
    # the CEO, her best partner by topics, is her manager's manager (see STAFF).
    Employee("lena", "Lena Hoffmann", "mentor", "Marketing", "cmo",
             ("social_media", "employer_branding", "genz", "ai_tools"), ("de", "en"),
             goals="Show how <!channel> LinkedIn really works.", habit="meets"),
    Employee("mehmet", "Mehmet Yılmaz", "mentor", "Operations", "ops-lead",
             ("ai_tools", "digital_tools"), ("de", "en", "tr"), habit="quiet"),
    Employee("sophie", "Sophie Wagner", "mentor", "Research & Development", "rnd-lead",
             ("ai_tools", "agile", "remote"), ("de", "en"), locale="de", mode="remote",
             habit="meets"),
    Employee("jamal", "Jamal Brooks", "mentor", "Legal", "legal-lead",
             ("sustainability", "diversity", "mental_health"), ("en",), habit="help"),
    Employee("mia", "Mia Schneider", "mentor", "Sales", "cso",
             ("agile", "digital_tools", "sustainability"), ("de", "en"), mode="in_person",
             habit="late"),
    # Speaks only French, which no senior speaks: the matching says so.
    Employee("noah", "Noah Martin", "mentor", "Marketing", "mkt-lead",
             ("social_media", "genz"), ("fr",)),
)
# Signs up after the coordinator confirmed the tandems, on sign-up's last day, and
# speaks French: matched into the running round with the junior nobody could take.
LATE = Employee("cxo", "Claire Dubois", "mentee", "Operations", "ceo",
                ("social_media", "genz"), ("fr", "en", "de"), locale="en")
ORG: tuple[Employee, ...] = SENIORS + JUNIORS + (LATE,)
#: Says "no" to the fit check after the first meeting: the coordinator re-matches.
NAYSAYER = "cso"
#: Takes a break in month 3, until a date; Tandem resumes them on that day.
ON_A_BREAK = "cio"
COORDINATOR = Employee("clara", "Clara Weber (HR)", "coordinator", "Human Resources", None,
                       (), ())
CHANNEL_ID, CHANNEL_NAME = "C-PROGRAMME", "#reverse-mentoring"

#: In the company directory but never signing up: (user id, name, department, manager).
#: The heads of department report to the CEO; the juniors' team leads to their heads.
STAFF: tuple[tuple[str, str, str, str], ...] = (
    ("cmo", "Julia Richter", "Marketing", "ceo"),
    ("coo", "Frank Neumann", "Operations", "ceo"),
    ("cto", "Andreas Klein", "Research & Development", "ceo"),
    ("clo", "Petra Schmitt", "Legal", "ceo"),
    ("mkt-lead", "Laura Fischer", "Marketing", "cmo"),
    ("ops-lead", "Stefan Koch", "Operations", "coo"),
    ("rnd-lead", "Nina Wolf", "Research & Development", "cto"),
    ("legal-lead", "Tobias Braun", "Legal", "clo"),
)
#: The HR system's export: which column holds what (app.yaml's directory.csv.columns).
HR_COLUMNS = {"email": "E-Mail", "name": "Name", "department": "Department",
              "manager": "Manager E-Mail"}
MAIL_DOMAIN = "example.com"

REFLECTIONS = {
    "en": ("Prompts, shortcuts and two new tools", "One small experiment each week"),
    "de": ("Prompts, Shortcuts und zwei neue Tools", "Jede Woche ein kleines Experiment"),
}
EVALUATION = {
    "en": "Seeing my own habits through someone else's eyes.",
    "de": "Die eigenen Gewohnheiten mit anderen Augen zu sehen.",
}
#: Juniors who offer a highlight for the channel in the evaluation, with their name.
HIGHLIGHTS = {
    "lena": "My senior now asks me first when a new tool comes along.",
    "noah": "Two generations, one hour a month: we both changed how we work.",
}
