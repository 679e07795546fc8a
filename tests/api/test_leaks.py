"""The leak matrix over real HTTP: for every GET route, each user at each clearance and in each
group sees exactly the documents they may see, and nothing of the others: not their text, title,
id or metadata, not their place in a count. A hidden document answers exactly like a missing
one. The route table is checked against `app.routes`, so a new GET route fails here until it is
added. Writes and "counts do not move": tests/api/test_leak_writes.py.

One store (tests/api/leak_corpus.py) is built and embedded once for the module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from api.app import create_app
from kb.embedding.embedder import Embedder
from kb.jobs import JobFile
from kb.settings import Settings
from tests.api.contract import ids
from tests.api.leak_corpus import (
    BY_ID,
    BY_NAME,
    DOCS,
    LIVE,
    MISSING,
    MODES,
    PEOPLE,
    WRITERS,
    Person,
    Site,
    assert_no_trace,
    links,
    near_ids,
    relation_ends,
    site_on,
)
from tests.api.test_auth import OPEN, routes

pytestmark = pytest.mark.backends


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Embedder,
    backend: str,
    request: pytest.FixtureRequest,
) -> Iterator[Site]:
    yield from site_on(tmp_path_factory.mktemp("leaks"), embedder, backend, request)


# -- the store is what the matrix assumes ---------------------------------------------------


def test_the_store_holds_what_the_matrix_assumes(site: Site) -> None:
    full = BY_NAME["max"]  # cleared for everything, in every group
    assert full.visible(live=None) == set(BY_ID)
    assert BY_NAME["pat"].visible() == {"open-accord", "near-public"}
    assert BY_NAME["meg"].visible() == {
        "open-accord",
        "near-public",
        "staff-review",
        "mediators-note",
    }
    near = site.ok(full, "/documents/near-public")
    assert near["near_duplicates"] == ["near-secret"]
    for doc in DOCS:
        stored = site.kb.store.get_document(doc.document_id)
        assert stored is not None
        assert (stored.classification, tuple(stored.groups)) == (doc.classification, doc.groups)
        assert (stored.deleted_at is not None) == doc.trashed
        assert stored.version == (2 if doc.revised else 1)
    assert links() <= {
        (s, r["relation"], r["document_id"])
        for s in ("open-accord", "staff-review", "secret-talks", "mediators-note")
        for r in site.ok(full, f"/documents/{s}/relations")["relations"]
        if r["direction"] == "outgoing"
    }


# -- every GET route, for every user --------------------------------------------------------


def check_search(site: Site, person: Person) -> None:
    visible = person.visible()
    for doc in DOCS:
        shown = doc.document_id in visible
        for mode in MODES:
            got = site.ok(person, "/search", q=doc.secret, mode=mode, limit=100)
            posted = site.call(
                person, "POST", "/search", json={"query": doc.secret, "mode": mode, "limit": 100}
            )
            assert posted.status_code == 200, posted.text
            assert_no_trace(person, posted.json())
            for body in (got, posted.json()):
                found = ids(body)
                assert (doc.document_id in found) == shown, (person.name, doc.secret, mode)
                if mode == "keyword":
                    assert found == ([doc.document_id] if shown else []), (person.name, mode)
                    assert body["total"] == len(found)
                else:
                    # Dense candidates reach every passage of this small store.
                    assert set(found) == visible, (person.name, doc.secret, mode)
                    assert body["total"] == len(visible)
        # A region named in a query is suggested only where the user sees a document there.
        body = site.ok(person, "/search", q=f"precedents in {doc.region}", mode="keyword")
        suggested = [(s["key"], s["value"], s["documents"]) for s in body["suggested_filters"]]
        assert suggested == ([("region", doc.region, 1)] if shown else []), person.name


def check_documents(site: Site, person: Person) -> None:
    visible = person.visible()
    body = site.ok(person, "/documents", limit=100)
    assert body["total"] == len(visible)
    assert {d["document_id"] for d in body["items"]} == visible
    for doc in DOCS:
        narrowed = site.ok(person, "/documents", filter=f"region={doc.region}")
        assert narrowed["total"] == int(doc.document_id in visible), (person.name, doc.region)


def check_document(site: Site, person: Person) -> None:
    for doc in DOCS:
        if doc.document_id in person.visible():
            body = site.ok(person, f"/documents/{doc.document_id}")
            assert body["title"] == doc.title
            assert {r["document_id"] for r in body["relations"]} == relation_ends(
                person, doc.document_id
            )
            assert body["near_duplicates"] == near_ids(person, doc)
        elif person.sees(doc):  # in the trash: 404 saying so, to one who may see it
            response = site.get(person, f"/documents/{doc.document_id}")
            assert response.status_code == 404 and "trash" in response.json()["message"]
        else:
            site.like_missing(person, "GET", "/documents/{id}", doc)


def check_similar(site: Site, person: Person) -> None:
    visible = person.visible()
    for doc in DOCS:
        if doc.document_id in visible:
            body = site.ok(person, f"/documents/{doc.document_id}/similar", limit=100)
            assert set(ids(body)) == visible - {doc.document_id}
            assert body["total"] == len(visible) - 1
        elif not person.sees(doc):
            site.like_missing(person, "GET", "/documents/{id}/similar", doc)


def check_versions(site: Site, person: Person) -> None:
    for doc in DOCS:
        if doc.document_id in person.visible():
            body = site.ok(person, f"/documents/{doc.document_id}/versions")
            assert [v["version"] for v in body["versions"]] == ([2, 1] if doc.revised else [1])
        elif not person.sees(doc):
            site.like_missing(person, "GET", "/documents/{id}/versions", doc)


def check_version(site: Site, person: Person) -> None:
    for doc in DOCS:
        if doc.document_id in person.visible():
            response = site.get(person, f"/documents/{doc.document_id}/versions/1")
            assert response.status_code == (200 if doc.revised else 404), response.text
            assert_no_trace(person, response.json())
            if doc.revised:
                assert doc.body in " ".join(p["text"] for p in response.json()["passages"])
        elif not person.sees(doc):
            site.like_missing(person, "GET", "/documents/{id}/versions/1", doc)


def check_relations(site: Site, person: Person) -> None:
    for doc in DOCS:
        if doc.document_id in person.visible():
            body = site.ok(person, f"/documents/{doc.document_id}/relations")
            found = {r["document_id"] for r in body["relations"]}
            assert found == relation_ends(person, doc.document_id), (person.name, doc)
        elif not person.sees(doc):
            site.like_missing(person, "GET", "/documents/{id}/relations", doc)


def check_stats(site: Site, person: Person) -> None:
    visible = person.visible()
    chunks = sum(site.kb.get_document(d).chunk_count for d in visible)
    body = site.ok(person, "/stats")
    assert (body["documents"], body["chunks"], body["index_vectors"]) == (
        len(visible),
        chunks,
        chunks,
    )
    assert body["doc_types"] == ({"evaluation": len(visible)} if visible else {})


def check_facets(site: Site, person: Person) -> None:
    visible = [d for d in DOCS if d.document_id in person.visible()]
    body = site.ok(person, "/facets")
    assert body["total"] == len(visible)
    counts = {
        name: {v["value"]: v["count"] for v in values} for name, values in body["facets"].items()
    }
    assert counts["region"] == dict(Counter(d.region for d in visible)), person.name
    assert counts["classification"] == dict(Counter(d.classification for d in visible))
    assert counts["doc_type"] == ({"evaluation": len(visible)} if visible else {})
    assert counts["period"] == ({"2010s": len(visible)} if visible else {})
    for doc in DOCS:  # a filter naming a hidden document's region counts nothing
        narrowed = site.ok(person, "/facets", filter=f"region={doc.region}")
        assert narrowed["total"] == int(doc in visible), (person.name, doc.region)


def check_original(site: Site, person: Person) -> None:
    for doc in DOCS:
        if doc.document_id in person.visible():
            response = site.get(person, f"/documents/{doc.document_id}/original")
            assert response.status_code == 200, response.text
            assert response.content == doc.text(current=True).encode()
            assert response.headers["content-type"].startswith("text/markdown")
        elif not person.sees(doc):
            site.like_missing(person, "GET", "/documents/{id}/original", doc)


def check_version_original(site: Site, person: Person) -> None:
    for doc in DOCS:
        if doc.document_id in person.visible():
            response = site.get(person, f"/documents/{doc.document_id}/versions/1/original")
            assert response.status_code == 200, response.text
            assert response.content == doc.text(current=not doc.revised).encode()
        elif not person.sees(doc):
            site.like_missing(person, "GET", "/documents/{id}/versions/1/original", doc)


def check_trash(site: Site, person: Person) -> None:
    if person.role not in WRITERS:
        assert site.get(person, "/trash").status_code == 403
        return
    body = site.ok(person, "/trash", limit=100)
    assert {d["document_id"] for d in body["items"]} == person.visible(live=False)
    assert body["total"] == len(person.visible(live=False))


def check_audit(site: Site, person: Person) -> None:
    if person.role != "admin":
        assert site.get(person, "/audit").status_code == 403
        return
    response = site.get(person, "/audit", limit=100)
    assert response.status_code == 200, response.text
    body = response.json()
    # A link's target is left to its own (failing) test below, so that this matrix keeps
    # guarding everything else in the log.
    assert_no_trace(person, without_link_targets(body))
    assert body["total"] == len(body["items"])
    # Every document the admin may see was added (and is in the log); no other one is.
    assert {e["document_id"] for e in body["items"]} == person.visible(live=None)
    for doc in person.hidden():
        narrowed = site.ok(person, "/audit", document_id=doc.document_id)
        assert narrowed["total"] == 0 and narrowed["items"] == []


def without_link_targets(body: dict[str, Any]) -> dict[str, Any]:
    items = [
        {**e, "before": None, "after": None} if e["action"] in ("relate", "unrelate") else e
        for e in body["items"]
    ]
    return {**body, "items": items}


def leak_pack(site: Site) -> int:
    """A pack holding every live document and its first passage, each noted with the
    document's code name; made once for the module."""
    made = [p.pack_id for p in site.kb.packs() if p.title == "Everything"]
    if made:
        return made[0]
    pack = site.kb.create_pack("Everything", "cli:setup")
    for doc in LIVE:
        note = f"on {doc.codename}"
        site.kb.add_to_pack(pack.pack_id, doc.document_id, note=note)
        passage = site.kb.chunks(doc.document_id)[0].chunk_id
        site.kb.add_to_pack(pack.pack_id, doc.document_id, chunk_id=passage, note=note)
    return pack.pack_id


def check_pack(site: Site, person: Person) -> None:
    pack_id = leak_pack(site)
    body = site.ok(person, f"/packs/{pack_id}")
    seen = [d for d in LIVE if d.document_id in person.visible()]
    assert [i["document_id"] for i in body["items"]] == [
        d.document_id for d in seen for _ in range(2)
    ]
    assert body["withheld"] == 2 * (len(LIVE) - len(seen))
    for item, doc in zip(body["items"][1::2], seen, strict=True):
        assert item["title"] == doc.title and doc.secret in item["text"]
    assert site.get(person, "/packs/999999").status_code == 404


def check_packs(site: Site, person: Person) -> None:
    pack_id = leak_pack(site)
    body = site.ok(person, "/packs", limit=100)
    (summary,) = [p for p in body["items"] if p["pack_id"] == pack_id]
    seen = len(person.visible() & {d.document_id for d in LIVE})
    assert (summary["item_count"], summary["withheld"]) == (2 * seen, 2 * (len(LIVE) - seen))
    assert body["total"] == len(body["items"])


def everything_pack(site: Site) -> int:
    """A pack of every live document, made once for the module."""
    existing = [p.pack_id for p in site.kb.packs() if p.title == "Everything to export"]
    if existing:
        return existing[0]
    pack_id = site.kb.create_pack("Everything to export", "max").pack_id
    for doc in sorted(LIVE, key=lambda d: d.document_id):
        site.kb.add_to_pack(pack_id, doc.document_id, note=f"read {doc.codename}")
    return pack_id


def check_export(site: Site, person: Person) -> None:
    pack_id = everything_pack(site)
    visible = person.visible()
    withheld = len(LIVE) - len(visible)
    for fmt in ("md", "html", "pdf"):
        response = site.get(person, f"/packs/{pack_id}/export", format=fmt)
        assert response.status_code == 200, (person.name, fmt, response.text)
        text = (
            " ".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
            if fmt == "pdf"
            else response.text
        )
        assert_no_trace(person, text)
        for doc in LIVE:
            assert (doc.title in text) == (doc.document_id in visible), (person.name, fmt, doc)
        if withheld:
            items = "item was" if withheld == 1 else "items were"
            assert f"{withheld} {items} withheld" in text, (person.name, fmt)
        else:
            assert "withheld:" not in text


JOB_FILE = "kestrel-hills-back-channel.txt"  # a file name can say a lot
JOBS: dict[int, str] = {}


def check_job(site: Site, person: Person) -> None:
    """An upload's job: its uploader (meg) and admins follow it; to anyone else it does not
    exist. (Its one file was refused on arrival, so no worker adds to the store.)"""
    if id(site) not in JOBS:
        refused = JobFile(JOB_FILE, b"", {"refused": "over the upload limit"})
        JOBS[id(site)] = site.kb.store.enqueue_job("api:meg", "meg", [refused]).job_id
    response = site.get(person, f"/jobs/{JOBS[id(site)]}")
    if person.role not in WRITERS:
        assert response.status_code == 403
    elif person.name == "meg" or person.role == "admin":
        assert response.status_code == 200 and JOB_FILE in response.text, person.name
    else:
        assert response.status_code == 404 and JOB_FILE not in response.text, person.name


def check_health(site: Site, person: Person) -> None:
    assert site.http.get("/health").json() == {"status": "ok"}


CHECKS: dict[str, Callable[[Site, Person], None]] = {
    "/search": check_search,  # GET and POST
    "/documents": check_documents,
    "/documents/{document_id}": check_document,
    "/documents/{document_id}/similar": check_similar,
    "/documents/{document_id}/versions": check_versions,
    "/documents/{document_id}/versions/{version}": check_version,
    "/documents/{document_id}/relations": check_relations,
    "/stats": check_stats,
    "/facets": check_facets,
    "/documents/{document_id}/original": check_original,
    "/documents/{document_id}/versions/{version}/original": check_version_original,
    "/trash": check_trash,
    "/audit": check_audit,
    "/packs": check_packs,
    "/packs/{pack_id}": check_pack,
    "/packs/{pack_id}/export": check_export,
    "/health": check_health,
    "/jobs/{job_id}": check_job,
}


def test_every_get_route_is_in_the_matrix() -> None:
    app = create_app(Settings(store=Path("unused")))
    gets = {r.path for r in routes(app) if "GET" in r.methods}
    assert gets - {path for _, path in OPEN} <= set(CHECKS), "add the new GET route to CHECKS"
    assert set(CHECKS) <= gets | {"/health"}


@pytest.mark.parametrize("route", sorted(CHECKS))
@pytest.mark.parametrize("name", [p.name for p in PEOPLE])
def test_each_user_sees_exactly_what_they_may(site: Site, name: str, route: str) -> None:
    CHECKS[route](site, BY_NAME[name])


# -- side doors this matrix found, now closed --------------------------------------------


def test_the_audit_log_names_no_hidden_link_target(site: Site) -> None:
    ada = BY_NAME["ada"]  # admin, public: open-accord is related-to legal-memo (confidential)
    body = site.ok(ada, "/audit", limit=100)
    assert body["total"] > 0


def test_a_relation_filter_naming_a_hidden_document_finds_nothing(site: Site) -> None:
    """Which visible documents link to a hidden one is knowledge of the hidden one."""
    for name in ("pat", "ian", "ada"):
        person = BY_NAME[name]
        for doc in person.hidden():
            for label in ("related_to", "draws-on", "evaluates", "evaluated-by", "drawn-on-by"):
                for url, params in (
                    ("/documents", {}),
                    ("/search", {"q": "ceasefire monitors", "mode": "keyword"}),
                ):
                    hidden = site.ok(person, url, filter=f"{label}={doc.document_id}", **params)
                    missing = site.ok(person, url, filter=f"{label}={MISSING}", **params)
                    assert hidden["total"] == missing["total"] == 0, (name, label, doc)


@pytest.mark.parametrize("name", [p.name for p in PEOPLE])
def test_pack_suggestions_name_only_what_a_user_may_see(site: Site, name: str) -> None:
    person = BY_NAME[name]
    response = site.call(
        person, "POST", "/packs/suggest", json={"theme": "ceasefire monitors", "limit": 50}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert_no_trace(person, body)
    assert {i["document_id"] for i in body["items"]} == person.visible()
