"""Writes against hidden documents, and "counts do not move": an evaluator cannot edit, delete,
restore, link or upload over a document hidden from them (each answers like a missing id), an
upload identical to a hidden document is not its duplicate, and what a low-cleared user can
count stays the same while a hidden document is added, edited, revised, linked, deleted,
restored and purged. The store is tests/api/leak_corpus.py's, one per module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kb.embedding.embedder import Embedder
from tests.api.contract import ids
from tests.api.leak_corpus import (
    BY_ID,
    BY_NAME,
    DOCS,
    MODES,
    WRITERS,
    Person,
    Site,
    assert_no_trace,
    site_on,
)

pytestmark = pytest.mark.backends


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Embedder,
    backend: str,
    request: pytest.FixtureRequest,
) -> Iterator[Site]:
    yield from site_on(tmp_path_factory.mktemp("leak-writes"), embedder, backend, request)


def full_state(site: Site) -> Any:
    """Everything stored, as full rights see it: to show a refused write changed nothing."""
    documents = {
        d.document_id: (d.title, d.version, d.sha256, d.deleted_at, dict(d.metadata))
        for d in (site.kb.store.get_document(doc.document_id) for doc in DOCS)
        if d is not None
    }
    relations = {d.document_id: site.kb.store.relations_of(d.document_id) for d in DOCS}
    return documents, relations, site.kb.audit(limit=100)


@pytest.mark.parametrize("name", ["ian", "meg", "ada"])
def test_a_writer_cannot_touch_a_hidden_document(site: Site, name: str) -> None:
    person = BY_NAME[name]
    before = full_state(site)
    for doc in person.hidden():
        site.like_missing(person, "PATCH", "/documents/{id}", doc, {"title": "Renamed"})
        site.like_missing(person, "DELETE", "/documents/{id}", doc)
        site.like_missing(person, "POST", "/documents/{id}/restore", doc)
        link = {"relation": "related-to", "target_id": "open-accord"}
        site.like_missing(person, "POST", "/documents/{id}/relations", doc, link)
        site.like_missing(
            person,
            "POST",
            "/documents/open-accord/relations",
            doc,
            {"relation": "related-to", "target_id": "{id}"},
        )
        site.like_missing(person, "DELETE", "/documents/open-accord/relations/related-to/{id}", doc)
        if person.role == "admin":
            site.like_missing(person, "DELETE", "/trash/{id}", doc)
        # An upload under a hidden document's id is refused without a word of what is there.
        response = site.call(
            person,
            "POST",
            "/documents",
            files={"file": ("note.md", b"# A note\n\nThe observers met the envoy.\n")},
            data={"document_id": doc.document_id, "doc_type": "other"},
        )
        assert response.status_code == 403, response.text
        assert_no_trace(person, response.json(), echoed=doc.document_id)
    assert full_state(site) == before


def test_an_upload_identical_to_a_hidden_document_is_not_its_duplicate(site: Site) -> None:
    ian = BY_NAME["ian"]
    copied = (site.root / "v2" / "secret-talks.md").read_bytes()
    response = site.call(
        ian,
        "POST",
        "/documents",
        files={"file": ("copy.md", copied)},
        data={"document_id": "ian-copy", "doc_type": "other"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["duplicate_of"]) == ("added", None)
    assert body["document"]["document_id"] == "ian-copy"
    assert body["near_duplicates"] == []
    # Nearly the text of a visible and of a hidden document: only the visible one is named.
    nearly = BY_ID["near-secret"].text().replace("ilmenitic", "zirconian").encode()
    response = site.call(
        ian,
        "POST",
        "/documents",
        files={"file": ("nearly.md", nearly)},
        data={"document_id": "ian-nearly", "doc_type": "other"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["near_duplicates"] == ["near-public"]
    full = site.call(BY_NAME["max"], "GET", "/documents/ian-nearly").json()
    assert set(full["near_duplicates"]) == {"near-public", "near-secret"}
    # Gone again, so that the other tests of this store see only the corpus.
    for copy in ("ian-copy", "ian-nearly"):
        assert site.call(ian, "DELETE", f"/documents/{copy}").status_code == 200
        assert site.call(BY_NAME["max"], "DELETE", f"/trash/{copy}").status_code == 200


# -- counts do not move -----------------------------------------------------------------------

WATCHERS = ("pat", "ian", "meg", "ada")
PROBES = ("ceasefire monitors aquilonite", "dolomitic amnesty", "halcyonite joint commission")
LATE = "# Report Petrel\n\nThe ceasefire monitors of the aquilonite sector met on the amnesty."


def snapshot(site: Site, person: Person) -> Any:
    """What a user can count: stats, the listing, facets, search totals, the trash, the audit
    log."""
    stats = site.ok(person, "/stats")
    del stats["generation"]  # a write counter: see its own test below
    listing = site.ok(person, "/documents", limit=100)
    seen: dict[str, Any] = {
        "stats": stats,
        "documents": (listing["total"], sorted(d["document_id"] for d in listing["items"])),
        "facets": site.ok(person, "/facets"),
        "facets of a region": site.ok(person, "/facets", filter="region=Quillon Reach"),
    }
    for probe in PROBES:
        for mode in MODES:
            body = site.ok(person, "/search", q=probe, mode=mode, limit=100)
            seen[f"{probe}/{mode}"] = (body["total"], sorted(ids(body)), body["suggested_filters"])
    if person.role in WRITERS:
        trash = site.ok(person, "/trash", limit=100)
        seen["trash"] = (trash["total"], sorted(d["document_id"] for d in trash["items"]))
    if person.role == "admin":
        audit = site.call(person, "GET", "/audit", params={"limit": 100}).json()
        seen["audit"] = (audit["total"], [e["audit_id"] for e in audit["items"]])
    return seen


def hidden_steps(site: Site, marking: dict[str, Any]) -> Iterator[str]:
    """Add, edit, revise, delete, restore and purge a document none of the watchers may see,
    yielding after each step."""
    max_ = BY_NAME["max"]

    def upload(text: str) -> None:
        response = site.call(
            max_,
            "POST",
            "/documents",
            files={"file": ("late.md", text.encode())},
            data={"document_id": "late-hidden", "doc_type": "other", **marking},
        )
        assert response.status_code == 201, response.text

    def do(method: str, url: str, **kwargs: Any) -> None:
        response = site.call(max_, method, url, **kwargs)
        assert response.status_code in (200, 201), response.text

    upload(LATE)
    yield "added"
    do("PATCH", "/documents/late-hidden", json={"title": "Report Petrel, revised"})
    yield "edited"
    upload(LATE + " The halcyonite joint commission was told.")
    yield "new version"
    do(
        "POST",
        "/documents/late-hidden/relations",
        json={"relation": "draws-on", "target_id": "near-public"},
    )
    yield "linked"
    do("DELETE", "/documents/late-hidden")
    yield "deleted"
    do("POST", "/documents/late-hidden/restore")
    yield "restored"
    do("DELETE", "/documents/late-hidden")
    do("DELETE", "/trash/late-hidden")
    yield "purged"


@pytest.mark.parametrize(
    "marking",
    [{"classification": "confidential"}, {"classification": "public", "groups": "horn"}],
    ids=["confidential", "public-in-a-group"],
)
def test_counts_do_not_move_when_a_hidden_document_changes(
    site: Site, marking: dict[str, Any]
) -> None:
    watchers = [BY_NAME[n] for n in WATCHERS]
    before = {p.name: snapshot(site, p) for p in watchers}
    for step in hidden_steps(site, marking):
        for person in watchers:
            assert snapshot(site, person) == before[person.name], (step, person.name)


def test_the_store_generation_does_not_move_for_hidden_writes(site: Site) -> None:
    pat = BY_NAME["pat"]
    before = site.ok(pat, "/stats")["generation"]
    for _ in hidden_steps(site, {"classification": "confidential"}):
        assert site.ok(pat, "/stats")["generation"] == before


def test_keyword_scores_do_not_move_for_hidden_writes(site: Site) -> None:
    pat = BY_NAME["pat"]

    def scores() -> list[float]:
        body = site.ok(pat, "/search", q=PROBES[0], mode="keyword")
        return [r["score"] for r in body["results"]]

    before = scores()
    assert before
    for _ in hidden_steps(site, {"classification": "confidential"}):
        assert scores() == before
