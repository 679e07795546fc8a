"""The store behind the leak matrix (tests/api/test_leaks.py, test_leak_writes.py,
test_cli_leaks.py): documents at every level and in need-to-know groups, each
with its own secret word, code name and region; links between visible and hidden documents, a
near-duplicate pair across levels, documents in the trash, earlier versions; and users at every
clearance, in and out of the groups.

The expected visibility is worked out here from the rule as the issue states it (clearance at
least the classification; where a document names groups, one of them), independently of
kb.access, so a slip in the product's rule shows up as a difference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from ingest.pipeline import ingest_paths
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.api.conftest import bearer
from tests.conftest import database_for
from tests.docs import write

ORDER = ("public", "internal", "restricted", "confidential")
# A long shared body, so that two documents differing in one word are near-duplicates.
SHARED = (
    "The joint commission reviewed the separation of forces along the river line, the "
    "exchange of detainees through the neutral crossing, the return of displaced families to "
    "their villages, the timetable for the cantonment of fighters and the handover of heavy "
    "weapons to the observers, the reopening of the markets on the plateau road, the payment of "
    "salaries to the local police, the release of the harvest stores held by both sides, the "
    "schedule of the water tankers for the camps, and the rules under which the monitors may "
    "enter the barracks without notice. Each party named a liaison officer to sit with the "
    "monitors every morning and to report every violation before noon on the same day."
)


@dataclass(frozen=True)
class Doc:
    document_id: str
    classification: str
    groups: tuple[str, ...]
    secret: str  # a word found in this document's text and nowhere else
    codename: str  # in its title only
    region: str  # its unique metadata value
    body: str = ""
    relations: dict[str, list[str]] = field(default_factory=dict)
    trashed: bool = False
    # Text of the current version when the document has an earlier one (the body, above).
    revised: str | None = None

    @property
    def title(self) -> str:
        return f"Report {self.codename}"

    @property
    def live(self) -> bool:
        return not self.trashed

    def text(self, current: bool = True) -> str:
        words = self.revised if (current and self.revised) else self.body
        return (
            f"# {self.title}\n\n{words or ''}\n\nThe {self.secret} file records how the "
            f"ceasefire monitors worked in the {self.secret} sector.\n"
        )

    def markers(self) -> tuple[str, ...]:
        """What must never reach a user who may not see this document."""
        return (self.document_id, self.secret, self.codename, self.region)


DOCS = (
    Doc(
        "open-accord",
        "public",
        (),
        "aquilonite",
        "Marlin",
        "Tamsin Plateau",
        "Observers verified the withdrawal of artillery from the valley roads.",
        {"related-to": ["legal-memo"]},
        revised="Observers verified the withdrawal of artillery and mortars from the roads.",
    ),
    Doc(
        "staff-review",
        "internal",
        (),
        "basaltine",
        "Heron",
        "Serran Basin",
        "The evaluation found that unarmed monitors reduced incidents at the checkpoints.",
        {"evaluates": ["open-accord"]},
    ),
    Doc(
        "restricted-brief",
        "restricted",
        (),
        "cobaltic",
        "Osprey",
        "Lusenia Coast",
        "Back-channel talks with the militia leadership were held in a third country.",
    ),
    Doc(
        "secret-talks",
        "confidential",
        (),
        "dolomitic",
        "Kestrel",
        "Kestria Hills",
        "The mediator met the rebel commander alone to discuss an amnesty.",
        {"draws-on": ["open-accord"]},
        revised="The mediator met the rebel commander twice to discuss an amnesty and exile.",
    ),
    Doc(
        "mediators-note",
        "internal",
        ("mediators",),
        "emeraldine",
        "Plover",
        "Belgarra Delta",
        "Women's organisations asked for seats at the table before any territorial talks.",
        {"responds-to": ["staff-review"]},
    ),
    Doc(
        "legal-memo",
        "confidential",
        ("legal", "mediators"),
        "feldspathic",
        "Gannet",
        "Dravenia North",
        "Counsel advised that the amnesty clause could not cover war crimes.",
    ),
    Doc(
        "horn-cable",
        "restricted",
        ("horn",),
        "garnetite",
        "Shrike",
        "Orvane Horn",
        "The envoy reported that the port authority would accept joint customs patrols.",
    ),
    Doc("near-public", "public", (), "halcyonite", "Curlew", "Vesper Strait", SHARED),
    Doc("near-secret", "confidential", (), "ilmenitic", "Avocet", "Quillon Reach", SHARED),
    Doc(
        "trashed-secret",
        "confidential",
        (),
        "jasperoid",
        "Bittern",
        "Marrow Fen",
        "A draft of the power-sharing annex that was withdrawn.",
        trashed=True,
    ),
    Doc(
        "trashed-open",
        "public",
        (),
        "kyanitic",
        "Dunlin",
        "Ostrel Bay",
        "An outdated press release about the opening of the talks.",
        trashed=True,
    ),
)
BY_ID = {d.document_id: d for d in DOCS}
LIVE = tuple(d for d in DOCS if d.live)
VERSIONED = tuple(d for d in DOCS if d.revised)
MISSING = "no-such-document"


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    clearance: str
    groups: tuple[str, ...] = ()

    def sees(self, doc: Doc) -> bool:
        if ORDER.index(doc.classification) > ORDER.index(self.clearance):
            return False
        return not doc.groups or bool(set(doc.groups) & set(self.groups))

    def visible(self, live: bool | None = True) -> set[str]:
        """Ids this person may see: live ones (False: in the trash; None: both)."""
        return {d.document_id for d in DOCS if self.sees(d) and (live is None or d.live == live)}

    def hidden(self) -> list[Doc]:
        return [d for d in DOCS if not self.sees(d)]


PEOPLE = (
    Person("pat", "reader", "public"),
    Person("ian", "evaluator", "internal"),
    Person("meg", "evaluator", "internal", ("mediators",)),
    Person("rae", "trainer", "restricted"),
    Person("hal", "reader", "restricted", ("horn",)),
    Person("cora", "reader", "confidential"),
    Person("ada", "admin", "public"),
    Person("lee", "admin", "confidential", ("legal",)),
    Person("max", "admin", "confidential", ("horn", "legal", "mediators")),
)
BY_NAME = {p.name: p for p in PEOPLE}


def links() -> set[tuple[str, str, str]]:
    """Every stored link: (source, relation, target)."""
    return {(d.document_id, r, t) for d in DOCS for r, ts in d.relations.items() for t in ts}


def write_doc(folder: Path, doc: Doc, current: bool) -> Path:
    sidecar = {
        "document_id": doc.document_id,
        "title": doc.title,
        "doc_type": "evaluation",
        "date": "2010-01-01",
        "region": doc.region,
        "classification": doc.classification,
        "groups": list(doc.groups),
        "relations": doc.relations,
    }
    write(folder, f"{doc.document_id}.meta.json", json.dumps(sidecar))
    return write(folder, f"{doc.document_id}.md", doc.text(current))


def build(
    root: Path, embedder: Embedder, database_url: str | None = None
) -> tuple[Settings, KnowledgeBase, dict[str, str]]:
    """The store (left open: the caller closes it) and each person's API key; in the
    PostgreSQL database at `database_url` if one is given."""
    settings = Settings(
        store=root / "store", signin_failures_per_minute=10_000, database_url=database_url
    )
    kb = KnowledgeBase(settings, embedder=embedder)
    for doc in DOCS:  # first versions
        write_doc(root / "v1", doc, current=not doc.revised)
    report = ingest_paths(kb, [root / "v1"])
    assert report.counts()["added"] == len(DOCS), report.outcomes
    for doc in VERSIONED:
        write_doc(root / "v2", doc, current=True)
    report = ingest_paths(kb, [root / "v2"])
    assert report.counts()["updated"] == len(VERSIONED), report.outcomes
    for doc in DOCS:
        if doc.trashed:
            kb.delete(doc.document_id, "cli:setup")
    keys = {}
    with Users(settings) as users:
        for person in PEOPLE:
            keys[person.name] = users.add(
                person.name, person.role, person.clearance, person.groups
            )[1]
    return settings, kb, keys


# -- over HTTP -------------------------------------------------------------------------------

MODES = ("hybrid", "dense", "keyword")
WRITERS = ("evaluator", "admin")


@dataclass
class Site:
    http: TestClient
    kb: KnowledgeBase
    settings: Settings
    keys: dict[str, str]
    root: Path

    def call(self, person: Person, method: str, url: str, **kwargs: Any) -> Response:
        return self.http.request(method, url, headers=bearer(self.keys[person.name]), **kwargs)

    def get(self, person: Person, url: str, **params: Any) -> Response:
        return self.call(person, "GET", url, params=params)

    def ok(self, person: Person, url: str, **params: Any) -> dict[str, Any]:
        response = self.get(person, url, **params)
        assert response.status_code == 200, (person.name, url, response.text)
        body: dict[str, Any] = response.json()
        assert_no_trace(person, body)
        return body

    def like_missing(
        self,
        person: Person,
        method: str,
        template: str,
        doc: Doc,
        body: dict[str, str] | None = None,
    ) -> None:
        """`template` (and `body`) with the hidden document's id answer exactly as with an id
        that does not exist (the id itself aside)."""

        def send(document_id: str) -> Response:
            sent = {k: v.format(id=document_id) for k, v in body.items()} if body else None
            return self.call(person, method, template.format(id=document_id), json=sent)

        hidden, missing = send(doc.document_id), send(MISSING)
        assert missing.status_code == 404, (template, missing.text)
        assert hidden.status_code == 404, (person.name, method, template, doc.document_id)
        expected = json.loads(missing.text.replace(MISSING, doc.document_id))
        assert hidden.json() == expected, (person.name, method, template)
        assert_no_trace(person, hidden.json(), echoed=doc.document_id)


def assert_no_trace(person: Person, body: Any, echoed: str | None = None) -> None:
    """Nothing in `body` names a document hidden from `person`: no id, secret word, code name
    (title) or region. A search's own query is left out (it is the user's words), and so is an
    id the request itself named (`echoed`)."""
    if isinstance(body, dict) and "query" in body:
        body = {k: v for k, v in body.items() if k != "query"}
    text = json.dumps(body).lower()
    for doc in person.hidden():
        for marker in doc.markers():
            if marker != echoed:
                assert marker.lower() not in text, f"{person.name} learns {marker!r}: {text}"


def relation_ends(person: Person, document_id: str) -> set[str]:
    """The other ends of a document's links that the person may see (live ones)."""
    ends = set()
    for source, _, target in links():
        if document_id in (source, target):
            ends.add(target if source == document_id else source)
    return ends & person.visible()


def near_ids(person: Person, doc: Doc) -> list[str]:
    pair = {"near-public": "near-secret", "near-secret": "near-public"}
    other = pair.get(doc.document_id)
    return [other] if other and other in person.visible() else []


def site_on(
    root: Path, embedder: Embedder, backend: str, request: pytest.FixtureRequest
) -> Iterator[Site]:
    """The site on the test module's backend (PostgreSQL: a database of its own)."""
    url = database_for(backend, request)
    yield from site_of(root, embedder, url)


def site_of(root: Path, embedder: Embedder, database_url: str | None = None) -> Iterator[Site]:
    settings, kb, keys = build(root, embedder, database_url)
    try:
        with TestClient(create_app(settings, kb=kb)) as http:
            yield Site(http, kb, settings, keys, root)
    finally:
        kb.close()
