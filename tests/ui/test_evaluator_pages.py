"""The evaluators' pages over HTTP (no browser): guards, CSRF, validation messages next to the
form with nothing added, outcomes per file, hidden documents, escaping, edit, trash, purge."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.errors import NotFoundError
from kb.models import Filters
from kb.users import Users
from tests.ui.conftest import Site

pytestmark = pytest.mark.backends

HIDDEN = "tamsin-plateau-mediation-evaluation-2004"  # restricted
VISIBLE = "aurel-highlands-declaration-of-principles-1996"
# Words no sample document uses, so these uploads never change another test's results.
TEXT = "The lake fisheries board sets quotas for net sizes and seasonal closures. " * 20
AGREEMENT = {
    "doc_type": "agreement",
    "m_date": "1999-04-02",
    "m_parties": "North; South",
    "m_stage": "framework",
}
FIELD_ERROR = re.compile(r'class="field-error"[^>]*>([^<]*)<')


@pytest.fixture
def http(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.settings, kb=site.kb), follow_redirects=False) as client:
        yield client


@pytest.fixture
def made(site: Site) -> Iterator[list[str]]:
    """Ids of documents a test adds: purged afterwards, the shared store as it was."""
    ids: list[str] = []
    yield ids
    for document_id in ids:
        for step in (site.kb.delete, site.kb.purge):
            try:
                step(document_id)
            except NotFoundError:
                pass


@pytest.fixture(scope="module")
def ivan(site: Site) -> str:
    """An evaluator cleared to internal only: the restricted evaluation is hidden from him."""
    with Users(site.settings) as users:
        return users.add("ivan", "evaluator", "internal")[1]


def sign_in(http: TestClient, key: str) -> str:
    """Signs in; returns the CSRF token of the session."""
    assert http.post("/ui/signin", data={"api_key": key, "next": "/ui/"}).status_code == 303
    return http.get("/ui/").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def documents(site: Site) -> int:
    return site.kb.list_documents(Filters(), 1, 0)[0]


def upload(
    http: TestClient, csrf: str, files: list[tuple[str, bytes]], **form: str
) -> tuple[int, str]:
    """Posts the upload form; follows its redirect. Returns the status and the page."""
    sent = [("files", (name, data, "application/octet-stream")) for name, data in files]
    answer = http.post("/ui/upload", data={"csrf": csrf, **form}, files=sent)
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/ui/upload")
        return 303, http.get("/ui/upload").text
    return answer.status_code, answer.text


def outcomes(page: str) -> list[str]:
    return re.findall(r'<tr class="outcome outcome-([a-z]+)">', page)


def test_readers_see_no_evaluator_links_and_get_403_pages(http: TestClient, site: Site) -> None:
    csrf = sign_in(http, site.keys["nadia"])
    document = http.get(f"/ui/documents/{VISIBLE}").text
    assert "Edit metadata" not in document and 'href="/ui/upload"' not in document
    for path in (
        "/ui/upload",
        "/ui/trash",
        f"/ui/documents/{VISIBLE}/edit",
        f"/ui/documents/{VISIBLE}/versions",
    ):
        answer = http.get(path)
        assert answer.status_code == 403, path
        assert answer.headers["content-type"].startswith("text/html"), path
    for path in (
        f"/ui/documents/{VISIBLE}/delete",
        f"/ui/documents/{VISIBLE}/edit",
        f"/ui/trash/{VISIBLE}/restore",
    ):
        assert http.post(path, data={"csrf": csrf}).status_code == 403, path
    assert site.kb.get_document(VISIBLE).deleted_at is None
    http.cookies.clear()
    sign_in(http, site.keys["eva"])
    document = http.get(f"/ui/documents/{VISIBLE}").text
    assert "Edit metadata" in document and 'href="/ui/upload"' in document


def test_every_change_needs_the_sessions_csrf_token(
    http: TestClient, site: Site, made: list[str]
) -> None:
    sign_in(http, site.keys["eva"])
    before = documents(site)
    status, page = upload(http, "forged", [("csrf-lake.txt", TEXT.encode())], **AGREEMENT)
    assert status == 403 and "stale" in page
    assert documents(site) == before
    title = site.kb.get_document(VISIBLE).title
    edited = http.post(f"/ui/documents/{VISIBLE}/edit", data={"title": "Forged", "csrf": "x"})
    assert edited.status_code == 403 and site.kb.get_document(VISIBLE).title == title
    assert http.post(f"/ui/documents/{VISIBLE}/delete", data={}).status_code == 403
    assert site.kb.get_document(VISIBLE).deleted_at is None


def test_bad_metadata_is_shown_by_its_fields_and_nothing_is_added(
    http: TestClient, site: Site, made: list[str]
) -> None:
    csrf = sign_in(http, site.keys["eva"])
    before = documents(site)
    files = [("bad-meta-a.txt", TEXT.encode()), ("bad-meta-b.txt", (TEXT + "Two.").encode())]
    status, page = upload(
        http, csrf, files, doc_type="agreement", m_date="sometime", m_parties="North"
    )
    assert status == 422
    assert "Nothing was added" in page
    errors = FIELD_ERROR.findall(page)
    assert any("bad-meta-a.txt: date must be a date" in e for e in errors)
    assert any("bad-meta-b.txt: stage is required for an agreement" in e for e in errors)
    assert 'value="sometime"' in page and 'aria-invalid="true"' in page  # kept to correct
    assert documents(site) == before
    status, page = upload(http, csrf, [], **AGREEMENT)
    assert status == 422 and "Choose at least one file" in page


def test_each_file_gets_its_outcome(http: TestClient, site: Site, made: list[str]) -> None:
    csrf = sign_in(http, site.keys["eva"])
    made += ["lake-one", "lake-two"]
    files = [("lake-one.txt", TEXT.encode()), ("broken.pdf", b"%PDF-1.4 not really")]
    status, page = upload(http, csrf, files, **AGREEMENT)
    assert status == 303 and outcomes(page) == ["added", "failed"]
    assert "broken.pdf: " in page and 'href="/ui/documents/lake-one"' in page
    assert site.kb.get_document("lake-one").metadata["parties"] == ["North", "South"]
    # the same again, the same content under another name, then new content: a new version
    status, page = upload(http, csrf, [("lake-one.txt", TEXT.encode())], **AGREEMENT)
    assert outcomes(page) == ["unchanged"]
    status, page = upload(http, csrf, [("lake-two.txt", TEXT.encode())], **AGREEMENT)
    assert outcomes(page) == ["duplicate"]
    assert 'Same content as <a href="/ui/documents/lake-one">' in page
    newer = (TEXT + "An amendment adds a closed season for eels.").encode()
    status, page = upload(http, csrf, [("x.txt", newer)], document_id="lake-one", **AGREEMENT)
    assert outcomes(page) == ["updated"] and "new version" in page
    assert "Nearly the same text" not in page  # its own earlier text is no near-duplicate
    assert http.get("/ui/upload").text.count('class="outcome') == 0  # shown once
    versions = http.get("/ui/documents/lake-one/versions").text
    assert "Version 2" in versions and "ui:eva" in versions
    old = http.get("/ui/documents/lake-one/versions/1")
    assert old.status_code == 200 and "closed season" not in old.text and "quotas" in old.text


def test_a_marking_above_ones_clearance_is_refused_on_the_form(
    http: TestClient, site: Site, ivan: str, made: list[str]
) -> None:
    csrf = sign_in(http, ivan)
    before = documents(site)
    status, page = upload(
        http,
        csrf,
        [("secret-lake.txt", TEXT.encode())],
        classification="confidential",
        **AGREEMENT,
    )
    assert status == 422 and "above your clearance" in page
    assert documents(site) == before


def test_hidden_documents_are_not_found_on_every_evaluator_page(
    http: TestClient, site: Site, ivan: str
) -> None:
    csrf = sign_in(http, ivan)
    for path in ("{}/edit", "{}/versions", "{}/versions/1"):
        hidden = http.get("/ui/documents/" + path.format(HIDDEN))
        missing = http.get("/ui/documents/" + path.format("no-such-document"))
        assert hidden.status_code == missing.status_code == 404, path
        assert "Kestria-Orlav" not in hidden.text
    for path in ("/ui/documents/{}/edit", "/ui/documents/{}/delete", "/ui/trash/{}/restore"):
        hidden = http.post(path.format(HIDDEN), data={"csrf": csrf, "title": "Mine now"})
        missing = http.post(path.format("no-such-document"), data={"csrf": csrf})
        assert hidden.status_code == missing.status_code == 404, path
    document = site.kb.get_document(HIDDEN)
    assert document.deleted_at is None and document.title != "Mine now"
    # the upload form cannot take a hidden document's id for a new version either
    status, page = upload(
        http, csrf, [("take.txt", TEXT.encode())], document_id=HIDDEN, doc_type="other"
    )
    assert outcomes(page) == ["failed"] and "not available" in page


def test_hostile_file_names_and_metadata_are_escaped(
    http: TestClient, site: Site, made: list[str]
) -> None:
    csrf = sign_in(http, site.keys["eva"])
    hostile = "<img src=x onerror=alert(1)>"
    made.append("img-src-x-onerror-alert-1")
    status, page = upload(
        http,
        csrf,
        [(f"{hostile}.txt", TEXT.encode())],
        doc_type="other",
        m_region="<script>alert(2)</script>",
        title=f"{hostile} title",
    )
    assert status == 303 and outcomes(page) == ["added"]
    assert hostile not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    match = re.search(r'href="/ui/documents/([^"]+)"', page.split("<tbody>")[1])
    assert match is not None
    made.append(match.group(1))
    for path in (f"/ui/documents/{match.group(1)}", f"/ui/documents/{match.group(1)}/edit"):
        shown = http.get(path).text
        assert "<script>alert(2)</script>" not in shown and hostile not in shown
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in shown


def test_edit_saves_a_merge_patch_and_shows_problems_by_field(
    http: TestClient, site: Site, made: list[str]
) -> None:
    csrf = sign_in(http, site.keys["eva"])
    made.append("lake-edit")
    upload(
        http, csrf, [("lake-edit.txt", (TEXT + "Edit me.").encode())], m_themes="fish", **AGREEMENT
    )
    site.kb.edit("lake-edit", {"metadata": {"basin": "north"}}, "test")  # a free field
    form = {
        "csrf": csrf,
        "title": "Lake accord",
        "doc_type": "agreement",
        "classification": "internal",
        "groups": "",
        "m_date": "1999-04-02",
        "m_parties": "North; South; East",
        "m_stage": "implementation",
        "m_themes": "",
    }
    bad = http.post("/ui/documents/lake-edit/edit", data={**form, "m_date": "1999-13-40"})
    assert bad.status_code == 422 and "Nothing was saved" in bad.text
    assert any("date" in e for e in FIELD_ERROR.findall(bad.text))
    bad = http.post("/ui/documents/lake-edit/edit", data={**form, "m_parties": ""})
    assert bad.status_code == 422
    assert "parties is required for an agreement" in FIELD_ERROR.findall(bad.text)
    assert site.kb.get_document("lake-edit").metadata["stage"] == "framework"  # untouched
    saved = http.post("/ui/documents/lake-edit/edit", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/ui/documents/lake-edit"
    page = http.get("/ui/documents/lake-edit").text
    assert "Saved the changes" in page and "Lake accord" in page
    document = site.kb.get_document("lake-edit")
    assert document.metadata["parties"] == ["North", "South", "East"]
    assert document.metadata["stage"] == "implementation"
    assert "themes" not in document.metadata  # emptied: removed
    assert document.metadata["basin"] == "north"  # not on the form: kept


def test_delete_restore_and_purge(http: TestClient, site: Site, made: list[str]) -> None:
    csrf = sign_in(http, site.keys["eva"])
    made.append("lake-trash")
    upload(http, csrf, [("lake-trash.txt", (TEXT + "Trash me.").encode())], **AGREEMENT)
    deleted = http.post("/ui/documents/lake-trash/delete", data={"csrf": csrf})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/ui/trash"
    trash = http.get("/ui/trash").text
    assert "Moved “lake trash” to the trash" in trash
    assert 'data-document-id="lake-trash"' in trash and "Purge…" not in trash  # admins only
    assert http.get("/ui/documents/lake-trash").status_code == 404
    assert http.post("/ui/trash/lake-trash/purge", data={"csrf": csrf}).status_code == 403
    restored = http.post("/ui/trash/lake-trash/restore", data={"csrf": csrf})
    assert restored.headers["location"] == "/ui/documents/lake-trash"
    assert "Restored" in http.get("/ui/documents/lake-trash").text
    http.post("/ui/documents/lake-trash/delete", data={"csrf": csrf})
    http.cookies.clear()
    root = sign_in(http, site.keys["root"])
    assert "Purge…" in http.get("/ui/trash").text
    purged = http.post("/ui/trash/lake-trash/purge", data={"csrf": root})
    assert purged.status_code == 303
    assert "Purged lake-trash" in http.get("/ui/trash").text
    assert site.kb.missing(["lake-trash"]) == ["lake-trash"]


def test_admins_read_a_documents_changes_and_evaluators_do_not(
    http: TestClient, site: Site, made: list[str]
) -> None:
    csrf = sign_in(http, site.keys["eva"])
    made.append("lake-audit")
    upload(http, csrf, [("lake-audit.txt", (TEXT + "Audit me.").encode())], **AGREEMENT)
    assert "Changes (audit log)" not in http.get("/ui/documents/lake-audit").text
    assert http.get("/ui/documents/lake-audit/audit").status_code == 403
    http.cookies.clear()
    root = sign_in(http, site.keys["root"])
    form = {
        "csrf": root,
        "title": "Lake audit",
        "doc_type": "agreement",
        "classification": "internal",
        "m_date": "1999-04-02",
        "m_parties": "North; South",
        "m_stage": "renewal",
    }
    assert http.post("/ui/documents/lake-audit/edit", data=form).status_code == 303
    assert "Changes (audit log)" in http.get("/ui/documents/lake-audit").text
    page = http.get("/ui/documents/lake-audit/audit").text
    assert "ui:eva" in page and "ui:root" in page
    assert '<strong>metadata.stage</strong>: "framework" → "renewal"' in page
    assert "metadata.parties" not in page  # unchanged fields are not listed
    assert http.get(f"/ui/documents/{HIDDEN}/audit").status_code == 200  # root is cleared


def test_a_new_version_from_the_form_keeps_every_field_it_does_not_change(
    http: TestClient, site: Site, made: list[str]
) -> None:
    csrf = sign_in(http, site.keys["eva"])
    made.append("lake-review")
    review = {
        "doc_type": "evaluation",
        "m_date": "2011-03-04",
        "m_region": "Lake District",
        "m_programme": "Fisheries Truce",
        "m_countries": "Marvania; Trevia",
        "m_themes": "quotas",
    }
    status, _ = upload(http, csrf, [("lake-review.txt", TEXT.encode())], **review)
    assert status == 303
    site.kb.edit("lake-review", {"title": "The lake review, as edited"}, "ui:eva")

    form = http.get("/ui/upload", params={"document_id": "lake-review"}).text
    # The form comes filled in with what the document holds.
    assert re.search(r"<option selected>evaluation</option>", form)
    assert 'value="The lake review, as edited"' in form
    assert 'value="Marvania; Trevia"' in form and 'value="Fisheries Truce"' in form

    # Only the type and the required fields sent: the others are kept, not emptied.
    newer = (TEXT + "A second season of closures is reviewed.").encode()
    required = {k: review[k] for k in ("doc_type", "m_date", "m_region", "m_programme")}
    status, page = upload(
        http, csrf, [("lake-review.txt", newer)], document_id="lake-review", **required
    )
    assert outcomes(page) == ["updated"] and "new version 2" in page
    document = site.kb.get_document("lake-review")
    assert document.version == 2 and document.title == "The lake review, as edited"
    assert document.metadata["countries"] == ["Marvania", "Trevia"]
    assert document.metadata["themes"] == ["quotas"]

    # New metadata on the same bytes: an update of fields, not a new version.
    status, page = upload(
        http,
        csrf,
        [("lake-review.txt", newer)],
        document_id="lake-review",
        **{**required, "m_themes": "quotas; eels"},
    )
    assert outcomes(page) == ["updated"] and "metadata updated" in page
    assert not re.search(r'status-updated">new version', page)
    assert site.kb.get_document("lake-review").version == 2


def test_the_empty_upload_form_names_no_type_so_a_revised_file_keeps_its_own(
    http: TestClient, site: Site, made: list[str]
) -> None:
    # The form once preselected "agreement": a revised evaluation uploaded as it stood was
    # asked for an agreement's parties and stage instead of being kept an evaluation.
    csrf = sign_in(http, site.keys["eva"])
    made.append("lake-survey")
    survey = {"m_date": "2012-05-06", "m_region": "Lake District", "m_programme": "Nets"}
    status, _ = upload(
        http, csrf, [("lake-survey.txt", TEXT.encode())], doc_type="evaluation", **survey
    )
    assert status == 303
    form = http.get("/ui/upload").text
    select = form.split('<select id="doc_type"', 1)[1].split("</select>", 1)[0]
    assert '<option value="">—</option>' in select and "selected" not in select
    # Where one of two fields is needed, each says so instead of both claiming to be required.
    assert (
        "required, or mission</span>" in form and "Required for: evaluation (or mission)." in form
    )
    # What the empty form sends: no type, no metadata. The file is a new version of its own.
    revised = (TEXT + "The survey is repeated after the floods.").encode()
    fields = {"doc_type": "", "title": "", "document_id": "", "groups": "", "classification": ""}
    status, page = upload(http, csrf, [("lake-survey.txt", revised)], **fields)
    assert outcomes(page) == ["updated"] and "new version 2" in page, page
    document = site.kb.get_document("lake-survey")
    assert document.doc_type == "evaluation" and document.metadata["programme"] == "Nets"
