"""POST /documents with many files: metadata checked first, bad files reported one by one, names
that are never paths, and request bodies refused with 413 before they are read."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.metadata import DOCUMENT_ID
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.api.conftest import add_user, bearer, served, signed_in
from tests.api.contract import assert_error
from tests.docs import make_corrupt_pdf, make_encrypted_pdf

pytestmark = pytest.mark.backends

CEASEFIRE = (
    "# Isles Ceasefire\n\nThe island councils agree to a ceasefire on the fishing grounds and "
    "to a joint patrol of the harbour mouths.\n"
)
REVIEW = (
    "# Review of the Isles Truce Programme\n\nThe programme paid harbour committees to meet "
    "every fortnight; the review found the truce held where they did.\n"
)
NOTE = "Catch quotas were shared between the two villages by a rota kept at the chapel.\n"
AGREEMENT_META = {
    "date": "2001-05-02",
    "parties": ["North Isle", "South Isle"],
    "stage": "ceasefire",
}


def send(
    client: TestClient,
    files: list[tuple[str, bytes]],
    field: str = "files",
    **form: Any,
) -> Any:
    data = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in form.items()}
    parts = [(field, (name, raw, "application/octet-stream")) for name, raw in files]
    return client.post("/documents", files=parts, data=data)


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def current(client: TestClient) -> tuple[Any, Any]:
    return client.get("/stats").json(), client.get("/documents", params={"limit": 100}).json()


def test_many_files_in_one_request_with_shared_and_per_file_metadata(
    bare_client: TestClient,
) -> None:
    response = bare_client.post(
        "/documents",
        files=[
            ("file", ("ceasefire.md", CEASEFIRE.encode(), "text/markdown")),
            ("files", ("review.md", REVIEW.encode(), "text/markdown")),
            ("files", ("note.txt", NOTE.encode(), "text/plain")),
        ],
        data={
            "metadata": json.dumps({"region": "Western Isles", "themes": ["fisheries"]}),
            "items": json.dumps(
                {
                    "ceasefire.md": {
                        "document_id": "isles-ceasefire",
                        "doc_type": "agreement",
                        "metadata": AGREEMENT_META,
                    },
                    "review.md": {
                        "doc_type": "evaluation",
                        "title": "Isles Truce Review",
                        "metadata": {"date": "2004", "programme": "Isles Truce"},
                    },
                }
            ),
        },
    )
    body = created(response)

    assert body["counts"] == {"added": 3}
    assert [(i["source"], i["status"], i["document_id"]) for i in body["items"]] == [
        ("ceasefire.md", "added", "isles-ceasefire"),
        ("review.md", "added", "review"),
        ("note.txt", "added", "note"),
    ]
    assert all(i["chunks"] >= 1 and i["reason"] is None for i in body["items"])
    # The one-file fields say nothing when there were many.
    assert body["document_id"] is body["status"] is body["document"] is None

    ceasefire = bare_client.get("/documents/isles-ceasefire").json()
    assert ceasefire["doc_type"] == "agreement" and ceasefire["date"] == "2001-05-02"
    assert ceasefire["metadata"]["parties"] == ["North Isle", "South Isle"]
    assert ceasefire["metadata"]["region"] == "Western Isles"  # from the shared metadata
    review = bare_client.get("/documents/review").json()
    assert (review["doc_type"], review["title"]) == ("evaluation", "Isles Truce Review")
    assert review["metadata"]["programme"] == "Isles Truce"
    assert review["metadata"]["themes"] == ["fisheries"]
    note = bare_client.get("/documents/note").json()
    assert note["doc_type"] == "other" and note["metadata"]["region"] == "Western Isles"
    stats = bare_client.get("/stats").json()
    assert stats["documents"] == 3 and stats["index_vectors"] == stats["chunks"]

    again = created(
        send(
            bare_client,
            [("note.txt", NOTE.encode()), ("x.md", REVIEW.encode())],
            metadata={"region": "Western Isles", "themes": ["fisheries"]},
        )
    )
    # The review's bytes under another name: recognised by content hash, not added twice.
    assert again["counts"] == {"unchanged": 1, "duplicate": 1}
    assert again["items"][1]["duplicate_of"] == "review"


def test_the_one_file_answer_keeps_its_fields_and_lists_the_item(bare_client: TestClient) -> None:
    body = created(send(bare_client, [("note.txt", NOTE.encode())], field="file"))
    assert (body["document_id"], body["status"]) == ("note", "added")
    assert body["document"]["chunk_count"] == body["chunks"]
    assert body["counts"] == {"added": 1}
    assert body["items"] == [
        {
            "source": "note.txt",
            "status": "added",
            "document_id": "note",
            "chunks": body["chunks"],
            "reason": None,
            "duplicate_of": None,
            "near_duplicates": [],
            "version": 1,
        }
    ]
    # One file sent as `files` answers the same way.
    assert created(send(bare_client, [("note.txt", NOTE.encode())]))["status"] == "unchanged"
    # With one file, the form's document_id and title hold beside an item for it.
    rota = NOTE + "\nThe rota hangs in the chapel porch.\n"
    body = created(
        send(
            bare_client,
            [("note.txt", rota.encode())],
            document_id="rota-note",
            title="Rota",
            items={"note.txt": {"metadata": {"region": "Isles"}}},
        )
    )
    assert (body["document_id"], body["document"]["title"]) == ("rota-note", "Rota")
    assert body["document"]["metadata"] == {"region": "Isles"}
    assert body["status"] == "added"


def test_bad_metadata_in_one_file_refuses_the_request_and_names_file_and_field(
    client: TestClient,
) -> None:
    before = current(client)
    response = send(
        client,
        [
            ("good.md", CEASEFIRE.encode()),
            ("accord.md", CEASEFIRE.encode()),
            ("review.md", REVIEW.encode()),
        ],
        items={
            "good.md": {"doc_type": "agreement", "metadata": AGREEMENT_META},
            "accord.md": {
                "doc_type": "agreement",
                "metadata": {**AGREEMENT_META, "stage": "truce"},
            },
            "review.md": {"doc_type": "evaluation", "metadata": {"date": "31/31/2004"}},
        },
    )
    body = assert_error(response, 422, "invalid_metadata")

    assert "accord.md: metadata field 'stage' must be one of" in body["message"]
    assert "review.md: metadata field 'region' is required for an evaluation" in body["message"]
    assert "good.md" not in body["message"]
    assert {(d["source"], d["field"]) for d in body["detail"]} == {
        ("accord.md", "stage"),
        ("review.md", "region"),
        ("review.md", "programme"),
        ("review.md", "date"),
    }
    assert all(d["reason"] for d in body["detail"])
    assert current(client) == before  # the valid file was not added either


def test_bad_metadata_on_a_single_upload_is_422_naming_the_field(bare_client: TestClient) -> None:
    body = assert_error(
        send(
            bare_client,
            [("accord.md", CEASEFIRE.encode())],
            field="file",
            doc_type="agreement",
            metadata={"date": "1998", "parties": ["A", "B"]},
        ),
        422,
        "invalid_metadata",
    )
    assert body["message"] == "accord.md: metadata field 'stage' is required for an agreement"
    assert body["detail"] == [
        {"source": "accord.md", "field": "stage", "reason": "is required for an agreement"}
    ]
    assert bare_client.get("/stats").json()["documents"] == 0


def test_unreadable_files_are_reported_while_the_others_are_added(
    bare_client: TestClient,
) -> None:
    body = created(
        send(
            bare_client,
            [
                ("locked.pdf", make_encrypted_pdf("secret", ["Annex on prisoner release."])),
                ("good.md", CEASEFIRE.encode()),
                ("empty.md", b""),
                ("minutes.odt", b"PK\x03\x04 a word document"),
                ("truncated.pdf", make_corrupt_pdf()),
            ],
        )
    )

    assert body["counts"] == {"failed": 4, "added": 1}
    outcomes = {i["source"]: i for i in body["items"]}
    assert outcomes["good.md"]["status"] == "added"
    for name in ("locked.pdf", "empty.md", "minutes.odt", "truncated.pdf"):
        assert outcomes[name]["status"] == "failed" and outcomes[name]["reason"], name
        assert outcomes[name]["document_id"] is None and outcomes[name]["chunks"] == 0
    assert "password" in outcomes["locked.pdf"]["reason"]
    assert "empty" in outcomes["empty.md"]["reason"]
    assert "unsupported file type '.odt'" in outcomes["minutes.odt"]["reason"]
    listed = bare_client.get("/documents").json()
    assert [d["document_id"] for d in listed["items"]] == ["good"]


def test_a_background_upload_answers_at_once_with_a_job_its_uploader_follows(
    bare_client: TestClient, settings: Settings
) -> None:
    files = [("good.md", CEASEFIRE.encode()), ("empty.md", b"")]
    answer = send(bare_client, files, doc_type="other", background="true")
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["files"] == 2 and job["status_url"] == f"/jobs/{job['job_id']}"
    deadline = time.monotonic() + 60
    while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)  # the server's own worker thread ingests it
        job = bare_client.get(job["status_url"]).json()
    assert (job["state"], job["done"], job["attempts"]) == ("done", 2, 1)
    assert [(i["source"], i["status"]) for i in job["items"]] == [
        ("good.md", "added"),
        ("empty.md", "failed"),
    ]
    assert bare_client.get("/documents/good").status_code == 200
    # Someone else cannot follow it, not even to learn that it exists.
    other = TestClient(bare_client.app, headers=bearer(add_user(settings, "nadia", "evaluator")))
    assert_error(other.get(job["status_url"]), 404, "not_found")
    assert_error(bare_client.get("/jobs/no-such-job"), 404, "not_found")


def test_a_background_upload_with_bad_metadata_is_refused_at_once(
    bare_client: TestClient,
) -> None:
    answer = send(
        bare_client, [("accord.md", CEASEFIRE.encode())], doc_type="agreement", background="true"
    )
    assert_error(answer, 422, "invalid_metadata")


def test_when_every_file_fails_the_request_is_refused_naming_each(
    bare_client: TestClient,
) -> None:
    body = assert_error(
        send(bare_client, [("empty.md", b""), ("minutes.odt", b"PK\x03\x04")]),
        422,
        "bad_input",
    )
    assert "empty.md" in body["message"] and "minutes.odt" in body["message"]
    assert bare_client.get("/stats").json()["documents"] == 0


def test_two_files_taking_one_document_id_add_the_first_and_fail_the_second(
    bare_client: TestClient,
) -> None:
    body = created(send(bare_client, [("Note.txt", NOTE.encode()), ("note.md", REVIEW.encode())]))
    assert [i["status"] for i in body["items"]] == ["added", "failed"]
    assert "already taken by Note.txt" in body["items"][1]["reason"]


@pytest.fixture
def small_files_client(tmp_path: Path, embedder: Embedder) -> Iterator[TestClient]:
    """Files up to about 1 KiB each."""
    settings = Settings(store=tmp_path / "small", max_upload_mb=0.001)
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        signed_in(create_app(settings, kb=kb), settings) as http,
    ):
        yield http


def test_a_file_over_the_size_limit_fails_alone_among_many(
    small_files_client: TestClient,
) -> None:
    big = CEASEFIRE.encode() * 20
    body = created(send(small_files_client, [("big.md", big), ("note.txt", NOTE.encode())]))
    assert [i["status"] for i in body["items"]] == ["failed", "added"]
    assert "over the 0.001 MiB upload limit" in body["items"][0]["reason"]


def test_a_text_file_over_the_text_limit_is_413_naming_it_the_limit_and_the_setting(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(store=tmp_path / "texts", max_text_mb=0.0625)
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        signed_in(create_app(settings, kb=kb), settings) as http,
    ):
        big = (NOTE * 1000).encode()
        body = assert_error(send(http, [("minutes.md", big)], field="file"), 413, "too_large")
        assert body["message"] == (
            f"minutes.md: {len(big) / 1048576:.3g} MiB is over the 0.0625 MiB limit for text, "
            "Markdown and HTML files (KB_MAX_TEXT_MB)"
        )
        many = created(send(http, [("minutes.md", big), ("note.txt", NOTE.encode())]))
        assert [i["status"] for i in many["items"]] == ["failed", "added"]
        assert "(KB_MAX_TEXT_MB)" in many["items"][0]["reason"]
        assert http.get("/stats").json()["documents"] == 1


MALFORMED = {
    "no file": ([], {}, "no file"),
    "document_id with many files": (
        [("a.md", b"x"), ("b.md", b"y")],
        {"document_id": "one"},
        "document_id and title",
    ),
    "title with many files": (
        [("a.md", b"x"), ("b.md", b"y")],
        {"title": "One"},
        "document_id and title",
    ),
    "items not JSON": ([("a.md", b"x")], {"items": "{a.md"}, "items: Invalid JSON"),
    "items a list": ([("a.md", b"x")], {"items": '[{"title": "A"}]'}, "items: Input should be"),
    "unknown key in an item": (
        [("a.md", b"x")],
        {"items": '{"a.md": {"name": "A"}}'},
        "items.a.md.name: Extra",
    ),
    "item metadata not an object": (
        [("a.md", b"x")],
        {"items": '{"a.md": {"metadata": [1]}}'},
        "items.a.md.metadata",
    ),
    "item for a file not sent": (
        [("a.md", b"x")],
        {"items": '{"b.md": {}}'},
        "items names 'b.md', which is not among",
    ),
    "two files with one name": ([("a.md", b"x"), ("a.md", b"y")], {}, "both named 'a.md'"),
    "two names that clean to one": ([("a/x.md", b"x"), ("b\\x.md", b"y")], {}, "both named 'x.md'"),
    "bad document_id in an item": (
        [("a.md", b"x"), ("b.md", b"y")],
        {"items": '{"a.md": {"document_id": "../x"}}'},
        "document_id '../x' must be",
    ),
    "bad doc_type in an item": (
        [("a.md", b"x"), ("b.md", b"y")],
        {"items": '{"a.md": {"doc_type": "treaty"}}'},
        "a.md: doc_type must be one of",
    ),
    "shared metadata not an object": ([("a.md", b"x")], {"metadata": "[1]"}, "metadata must be"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_upload_request_is_422_and_adds_nothing(client: TestClient, case: str) -> None:
    files, form, says = MALFORMED[case]
    before = current(client)
    body = assert_error(send(client, files, **form), 422)
    assert says in body["message"], body["message"]
    assert current(client) == before


# -- names are labels, never paths ---------------------------------------------------------

BOUNDARY = "precedent-test-boundary"


def raw_upload(client: TestClient, filename: bytes, data: bytes) -> Any:
    """A multipart body written by hand, so the file name reaches the server byte for byte."""
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\n'
        + b"Content-Type: text/markdown\r\n\r\n"
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return client.post(
        "/documents",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


def files_under(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def test_upload_names_are_never_used_as_paths(
    bare_client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    token = uuid.uuid4().hex
    absolute = Path("/tmp") / f"{token}.md"
    names = [
        b"../../etc/passwd.md",
        f"../../../../../../tmp/{token}-up.md".encode(),
        str(absolute).encode(),
        b"..\\..\\windows\\" + token.encode() + b".md",
        b"nul\x00byte\x00.md",
        b"escape\x1b[31m.md",
        ("long-" + "x" * 600 + ".md").encode(),
        "Accord de paix — Bangui/../Соглашение о мире.md".encode(),
        b"dir/",
    ]
    before = files_under(tmp_path)
    seen = []
    for index, name in enumerate(names):
        response = raw_upload(bare_client, name, f"# Note {index}\n\n{NOTE}".encode())
        if name == b"dir/":
            assert_error(response, 415, "unsupported_type")  # nothing left of it to read
            continue
        body = created(response)
        document_id, source = body["document_id"], body["document"]["source_name"]
        assert DOCUMENT_ID.match(document_id), document_id
        assert not re.search(r"[/\\\x00-\x1f]", document_id), document_id
        assert not re.search(r"[/\\\x00-\x1f]", source) and len(source) <= 255, source
        assert source.endswith(".md")
        seen.append((document_id, source))

    assert seen[0] == ("passwd", "passwd.md")
    assert seen[2] == (token, f"{token}.md")
    assert seen[3] == (token, f"{token}.md")
    assert seen[4][1] == "nulbyte.md"
    assert seen[7][1] == "Соглашение о мире.md"
    # Only the store's own files appeared; nothing at any path a name pointed to.
    added = files_under(tmp_path) - before
    store = settings.store.relative_to(tmp_path)
    originals = store / "originals"  # kept files, named by their own SHA-256 only
    kept = {p for p in added if p == originals or originals in p.parents}
    for path in kept - {originals}:
        name = path.relative_to(originals).as_posix()
        assert re.fullmatch(r"[0-9a-f]{2}(/[0-9a-f]{64})?", name), name
    added -= kept
    assert {p.parent for p in added} <= {store}, sorted(map(str, added))
    assert {p.name for p in added} <= {"index.faiss", "index.json", "writer.lock"}
    assert not absolute.exists() and not Path(f"/tmp/{token}-up.md").exists()


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_upload_names_lose_bidirectional_controls(bare_client: TestClient) -> None:
    # "invoice\u202eam.exe" would show as "invoiceexe.ma"... in any page that printed it.
    name = "report\u202egpj\u2066-\u2069\u200f" + BIDI + "2024.md"
    body = created(raw_upload(bare_client, name.encode(), f"# Note\n\n{NOTE}".encode()))
    source = body["document"]["source_name"]
    assert source == "reportgpj-2024.md"
    assert not any(c in source for c in BIDI)


# -- 413 before the body is read -------------------------------------------------------------

REQUEST_LIMIT_MB = 0.0625  # 64 KiB
REQUEST_LIMIT = int(REQUEST_LIMIT_MB * 1048576)


@pytest.fixture
def limited_settings(tmp_path: Path) -> Settings:
    return Settings(store=tmp_path / "limited", max_request_mb=REQUEST_LIMIT_MB)


def test_a_request_body_over_the_limit_is_413_in_the_error_shape(
    limited_settings: Settings, embedder: Embedder
) -> None:
    with (
        KnowledgeBase(limited_settings, embedder=embedder) as kb,
        signed_in(create_app(limited_settings, kb=kb), limited_settings) as http,
    ):
        big = (NOTE * 1000).encode()
        assert len(big) > REQUEST_LIMIT
        body = assert_error(send(http, [("big.md", big)]), 413, "too_large")
        assert "over the 0.0625 MiB limit (KB_MAX_REQUEST_MB)" in body["message"]
        assert http.get("/stats").json()["documents"] == 0
        assert created(send(http, [("note.txt", NOTE.encode())]))["status"] == "added"


@pytest.fixture
def server(limited_settings: Settings, embedder: Embedder) -> Iterator[tuple[str, int]]:
    """The app served by uvicorn on a free local port, in a thread (its admin: `admin`)."""
    with (
        KnowledgeBase(limited_settings, embedder=embedder) as kb,
        served(create_app(limited_settings, kb=kb)) as address,
    ):
        yield address


def answer(connection: socket.socket) -> tuple[int, dict[str, Any]]:
    """The server's answer, waiting at most 30 s: a server that waited for the rest of the body
    would never give one."""
    connection.settimeout(30)
    response = http.client.HTTPResponse(connection)
    try:
        response.begin()
        return response.status, json.loads(response.read())
    finally:
        response.close()


def request_head(settings: Settings, headers: dict[str, str]) -> bytes:
    # A good key: a wrong one would be refused before the body too (tests/api/test_early_auth.py).
    key = add_user(settings, f"uploader-{uuid.uuid4().hex[:8]}", "evaluator")
    lines = [
        "POST /documents HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        f"Authorization: Bearer {key}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def body_chunks() -> Iterator[bytes]:
    """An endless multipart body; it fails the test if asked for much more than the limit."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        'filename="endless.md"\r\nContent-Type: text/markdown\r\n\r\n'
    ).encode()
    sent = 0
    while True:
        sent += 8192
        assert sent <= REQUEST_LIMIT + 8192, "the body was read past the limit"
        yield NOTE.encode() * (8192 // len(NOTE)) + b" " * (8192 % len(NOTE))


def stored_documents(server: tuple[str, int], settings: Settings) -> int:
    key = add_user(settings, f"counter-{uuid.uuid4().hex[:8]}", "reader")
    stats = httpx.get(f"http://{server[0]}:{server[1]}/stats", headers=bearer(key))
    assert stats.status_code == 200, stats.text
    return int(stats.json()["documents"])


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    server: tuple[str, int], limited_settings: Settings
) -> None:
    with socket.create_connection(server) as connection:
        # Ten GiB declared, not one byte of it sent.
        connection.sendall(request_head(limited_settings, {"Content-Length": str(10 * 1024**3)}))
        status, body = answer(connection)
    assert status == 413
    assert body["ok"] is False and body["error"] == "too_large"
    assert "KB_MAX_REQUEST_MB" in body["message"]
    assert stored_documents(server, limited_settings) == 0


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(
    server: tuple[str, int], limited_settings: Settings
) -> None:
    with socket.create_connection(server) as connection:
        connection.sendall(request_head(limited_settings, {"Transfer-Encoding": "chunked"}))
        sent = 0
        chunks = body_chunks()
        # Send just past the limit and never finish the body: only a server that counts the
        # bytes as they come answers at all.
        while sent <= REQUEST_LIMIT:
            chunk = next(chunks)
            connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        status, body = answer(connection)
    assert status == 413 and body["error"] == "too_large", body
    assert stored_documents(server, limited_settings) == 0


def test_an_upload_changes_only_the_fields_it_gives(bare_client: TestClient) -> None:
    review = {"date": "2020-01-02", "region": "Kassel", "programme": "P1", "themes": ["rota"]}
    created(
        send(bare_client, [("note.txt", NOTE.encode())], doc_type="evaluation", metadata=review)
    )

    again = created(send(bare_client, [("note.txt", NOTE.encode())]))
    assert (again["status"], again["items"][0]["version"]) == ("unchanged", None)
    assert again["document"]["doc_type"] == "evaluation"

    newer = NOTE + "\nThe rota hangs in the chapel porch.\n"
    body = created(send(bare_client, [("note.txt", newer.encode())], metadata={"programme": "P2"}))
    assert (body["status"], body["items"][0]["version"]) == ("updated", 2)
    assert body["document"]["doc_type"] == "evaluation"
    assert body["document"]["metadata"] == {**review, "programme": "P2", "year": 2020}
    entry = bare_client.get("/audit", params={"document_id": "note", "limit": 1}).json()
    (replaced,) = entry["items"]
    assert replaced["action"] == "replace"
    assert set(replaced["after"]) == {"sha256", "metadata", "version"}
