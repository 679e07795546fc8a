"""The reading pack pages over HTTP (no browser): who may change what, CSRF, withheld items,
escaping, moves without JavaScript, adding from the search and the suggestions."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.sessions import COOKIE
from kb.access import Viewer
from tests.ui.conftest import USERS, Site

pytestmark = pytest.mark.backends

HIDDEN = "tamsin-plateau-mediation-evaluation-2004"  # restricted; nadia and tomas see internal
HIDDEN_TITLE = "Kestria-Orlav"
VISIBLE = "aurel-highlands-ddr-protocol-2000"


@pytest.fixture
def http(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.settings, kb=site.kb), follow_redirects=False) as client:
        yield client


def sign_in(http: TestClient, site: Site, name: str) -> str:
    """Signs `http` in as `name`; returns the page's CSRF token."""
    http.cookies.clear()
    answer = http.post("/ui/signin", data={"api_key": site.keys[name], "next": "/ui/"})
    assert answer.status_code == 303 and COOKIE in answer.cookies
    return csrf_of(http.get("/ui/packs").text)


def csrf_of(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def viewer(name: str) -> Viewer:
    role, clearance = USERS[name]
    return Viewer(name, role, clearance)


def order_of(site: Site, pack_id: int) -> list[int]:
    return [i.item_id for i in site.kb.pack(pack_id).items]


@pytest.fixture
def mixed_pack(site: Site) -> Iterator[int]:
    """A pack of a visible passage, the hidden evaluation, and a visible document, in order."""
    chunk = site.kb.chunks(VISIBLE)[1].chunk_id
    pack = site.kb.create_pack("Mixed clearance pack", "root", "officers", ["one", "two"])
    site.kb.add_to_pack(pack.pack_id, VISIBLE, chunk, "first note")
    site.kb.add_to_pack(pack.pack_id, HIDDEN, None, "secret note about Kestria-Orlav")
    site.kb.add_to_pack(pack.pack_id, "lusenia-comprehensive-peace-agreement-2007", None, "")
    yield pack.pack_id
    site.kb.delete_pack(pack.pack_id)


def test_a_reader_sees_packs_but_no_controls(http: TestClient, site: Site, mixed_pack: int) -> None:
    sign_in(http, site, "nadia")
    listing = http.get("/ui/packs").text
    assert "Mixed clearance pack" in listing and "2 items (and 1 withheld)" in listing
    assert 'action="/ui/packs"' not in listing and "Duplicate" not in listing
    builder = http.get(f"/ui/packs/{mixed_pack}").text
    assert "first note" in builder and "Save note" not in builder and "Move up" not in builder
    search = http.get("/ui/", params={"q": "disarmament"}).text
    assert 'class="card"' in search and "Add document to pack" not in search


def test_a_reader_may_change_nothing(http: TestClient, site: Site, mixed_pack: int) -> None:
    csrf = sign_in(http, site, "nadia")
    item = order_of(site, mixed_pack)[0]
    before = site.kb.pack(mixed_pack)
    for url, data in [
        ("/ui/packs", {"title": "Mine"}),
        (f"/ui/packs/{mixed_pack}", {"title": "Renamed"}),
        (f"/ui/packs/{mixed_pack}/duplicate", {}),
        (f"/ui/packs/{mixed_pack}/delete", {"confirm": "yes"}),
        ("/ui/add-to-pack", {"pack_id": str(mixed_pack), "document_id": VISIBLE}),
        (f"/ui/packs/{mixed_pack}/items", {"document_id": VISIBLE, "chunk_id": "", "note": ""}),
        (f"/ui/packs/{mixed_pack}/items/{item}/note", {"note": "x"}),
        (f"/ui/packs/{mixed_pack}/items/{item}/move", {"direction": "down"}),
        (f"/ui/packs/{mixed_pack}/items/{item}/remove", {}),
    ]:
        answer = http.post(url, data={"csrf": csrf, **data})
        assert answer.status_code == 403, url
        assert "text/html" in answer.headers["content-type"]
    assert site.kb.pack(mixed_pack) == before


def test_changes_need_the_sessions_csrf_token(
    http: TestClient, site: Site, mixed_pack: int
) -> None:
    csrf = sign_in(http, site, "tomas")
    item = order_of(site, mixed_pack)[0]
    for data in ({}, {"csrf": "forged"}):
        answer = http.post(f"/ui/packs/{mixed_pack}/items/{item}/note", data={"note": "x", **data})
        assert answer.status_code == 403
        assert http.post("/ui/packs", data={"title": "Forged", **data}).status_code == 403
    assert site.kb.pack(mixed_pack).items[0].note == "first note"
    # the control: the page's own token works
    answer = http.post(
        f"/ui/packs/{mixed_pack}/items/{item}/note", data={"note": "better", "csrf": csrf}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/ui/packs/{mixed_pack}#item-{item}"
    assert site.kb.pack(mixed_pack).items[0].note == "better"
    assert "Note saved." in http.get(f"/ui/packs/{mixed_pack}").text


def same_page(text: str, item: int) -> str:
    """A page with the item's id and the session's random CSRF token taken out (a token may
    hold the id's digits)."""
    text = re.sub(r'name="csrf" value="[^"]*"', 'name="csrf"', text)
    return re.sub(rf"\b{item}\b", "N", text)


def test_withheld_items_are_counted_never_shown_and_not_found(
    http: TestClient, site: Site, mixed_pack: int
) -> None:
    hidden_item = order_of(site, mixed_pack)[1]
    csrf = sign_in(http, site, "tomas")
    page = http.get(f"/ui/packs/{mixed_pack}").text
    assert "1 item of this pack is withheld" in page
    assert HIDDEN_TITLE not in page and HIDDEN not in page and "secret note" not in page
    assert f"item-{hidden_item}" not in page
    for action, data in [("note", {"note": "x"}), ("move", {"direction": "up"}), ("remove", {})]:
        answer = http.post(
            f"/ui/packs/{mixed_pack}/items/{hidden_item}/{action}", data={"csrf": csrf, **data}
        )
        missing = http.post(
            f"/ui/packs/{mixed_pack}/items/999999/{action}", data={"csrf": csrf, **data}
        )
        assert answer.status_code == missing.status_code == 404, action
        assert same_page(answer.text, hidden_item) == same_page(missing.text, 999999)
    assert len(site.kb.pack(mixed_pack).items) == 3
    assert site.kb.pack(mixed_pack).items[1].note == "secret note about Kestria-Orlav"
    # the control: root is cleared to confidential and sees it
    sign_in(http, site, "root")
    page = http.get(f"/ui/packs/{mixed_pack}").text
    assert HIDDEN_TITLE in page and "withheld" not in page


def test_move_up_and_down_without_javascript(http: TestClient, site: Site, mixed_pack: int) -> None:
    """tomas sees items 1 and 3; moving the last up swaps them around the withheld one."""
    first, hidden, last = order_of(site, mixed_pack)
    csrf = sign_in(http, site, "tomas")
    answer = http.post(
        f"/ui/packs/{mixed_pack}/items/{last}/move", data={"csrf": csrf, "direction": "up"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/ui/packs/{mixed_pack}#item-{last}"
    assert order_of(site, mixed_pack) == [last, hidden, first]
    # at the top already: nothing moves
    http.post(f"/ui/packs/{mixed_pack}/items/{last}/move", data={"csrf": csrf, "direction": "up"})
    assert order_of(site, mixed_pack) == [last, hidden, first]
    page = http.get(f"/ui/packs/{mixed_pack}").text
    assert page.index(f'id="item-{last}"') < page.index(f'id="item-{first}"')
    bad = http.post(
        f"/ui/packs/{mixed_pack}/items/{last}/move", data={"csrf": csrf, "direction": "sideways"}
    )
    assert bad.status_code == 422 and "sideways" in bad.text


def test_hostile_titles_and_notes_are_escaped(http: TestClient, site: Site) -> None:
    csrf = sign_in(http, site, "tomas")
    hostile = '<script>alert("t")</script>'
    answer = http.post(
        "/ui/packs",
        data={"csrf": csrf, "title": f"Pack {hostile}", "audience": hostile, "objectives": hostile},
    )
    assert answer.status_code == 303
    pack_id = int(answer.headers["location"].rsplit("/", 1)[1])
    http.post(
        "/ui/add-to-pack",
        data={"csrf": csrf, "pack_id": str(pack_id), "document_id": VISIBLE, "note": hostile},
    )
    pages = [
        http.get("/ui/packs").text,
        http.get(f"/ui/packs/{pack_id}").text,
        http.get("/ui/", params={"q": "ceasefire"}).text,  # the pack's name in the select
        http.get(f"/ui/packs/{pack_id}/suggest").text,
    ]
    for page in pages:
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(" in page
    site.kb.delete_pack(pack_id)


def test_add_from_the_search_goes_back_with_a_message_and_remembers_the_pack(
    http: TestClient, site: Site
) -> None:
    csrf = sign_in(http, site, "tomas")
    packs = [site.kb.create_pack(f"Remembered {n}", "root").pack_id for n in (1, 2)]
    search = "/ui/?q=disarmament+cantonment"
    page = http.get(search).text
    assert "Add document to pack" in page and "Add passage to pack" in page
    chunk = re.search(r'name="chunk_id" value="(\d+)"', page)
    assert chunk is not None
    answer = http.post(
        "/ui/add-to-pack",
        data={
            "csrf": csrf,
            "pack_id": str(packs[0]),
            "document_id": VISIBLE,
            "chunk_id": chunk.group(1),
            "back": search,
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == search
    again = http.get(search).text
    assert "Added a passage (p" in again and "“Remembered 1”" in again
    assert f'<option value="{packs[0]}" selected>' in again
    assert f'<option value="{packs[1]}" selected>' in http.get(search + f"&pack={packs[1]}").text
    assert "Added a passage" not in http.get(search).text  # shown once
    item = site.kb.pack(packs[0]).items[0]
    assert (item.document_id, item.chunk_id) == (VISIBLE, int(chunk.group(1)))
    # the document's page offers the same, for the document and for each of its passages
    document = http.get(f"/ui/documents/{VISIBLE}").text
    assert document.count("Add passage to pack") == len(site.kb.chunks(VISIBLE))
    assert f'id="add-{VISIBLE}"' in document and "Add document to pack" in document
    # a hidden document cannot be added, and answers like a missing one
    for doc in (HIDDEN, "no-such-document"):
        refused = http.post(
            "/ui/add-to-pack", data={"csrf": csrf, "pack_id": str(packs[1]), "document_id": doc}
        )
        assert refused.status_code == 404
    # the way back stays on our pages
    off = http.post(
        "/ui/add-to-pack",
        data={
            "csrf": csrf,
            "pack_id": str(packs[1]),
            "document_id": VISIBLE,
            "back": "https://evil.example/",
        },
    )
    assert off.headers["location"] == "/ui/"
    for pack_id in packs:
        site.kb.delete_pack(pack_id)


def test_suggestions_add_one_or_all_with_their_why_as_notes(http: TestClient, site: Site) -> None:
    csrf = sign_in(http, site, "tomas")
    pack_id = site.kb.create_pack("Suggested", "root").pack_id
    page = http.get(
        f"/ui/packs/{pack_id}/suggest",
        params={"theme": "ceasefire monitoring, refugee return", "limit": 3},
    ).text
    assert "3 suggestions" in page and "Why:" in page and HIDDEN_TITLE not in page
    add_all = page.split('class="add-all"', 1)[1].split("</form>", 1)[0]
    fields = re.findall(r'name="(document_id|chunk_id|note)" value="([^"]*)"', add_all)
    data: dict[str, list[str]] = {"document_id": [], "chunk_id": [], "note": []}
    for name, value in fields:
        data[name].append(value.replace("&#39;", "'").replace("&amp;", "&"))
    answer = http.post(
        f"/ui/packs/{pack_id}/items",
        data={"csrf": csrf, "back": f"/ui/packs/{pack_id}", **data},
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/ui/packs/{pack_id}"
    items = site.kb.pack(pack_id).items
    assert [i.document_id for i in items] == data["document_id"]
    assert all(i.note for i in items)
    assert "Added 3 items" in http.get(f"/ui/packs/{pack_id}").text
    again = http.get(
        f"/ui/packs/{pack_id}/suggest",
        params={"theme": "ceasefire monitoring, refugee return", "limit": 3},
    ).text
    assert again.count("Already in the pack.") == 3
    uneven = http.post(
        f"/ui/packs/{pack_id}/items",
        data={"csrf": csrf, "document_id": [VISIBLE, VISIBLE], "chunk_id": [""], "note": [""]},
    )
    assert uneven.status_code == 422 and len(site.kb.pack(pack_id).items) == 3
    site.kb.delete_pack(pack_id)


def test_duplicate_and_delete_with_confirmation(
    http: TestClient, site: Site, mixed_pack: int
) -> None:
    csrf = sign_in(http, site, "tomas")
    answer = http.post(f"/ui/packs/{mixed_pack}/duplicate", data={"csrf": csrf})
    assert answer.status_code == 303
    copy_id = int(answer.headers["location"].rsplit("/", 1)[1])
    copy = site.kb.pack(copy_id)
    assert copy.title == "Copy of Mixed clearance pack" and len(copy.items) == 2  # not the hidden
    unconfirmed = http.post(f"/ui/packs/{copy_id}/delete", data={"csrf": csrf})
    assert unconfirmed.status_code == 303 and site.kb.pack(copy_id).pack_id == copy_id
    assert "was not deleted" in http.get("/ui/packs").text
    http.post(f"/ui/packs/{copy_id}/delete", data={"csrf": csrf, "confirm": "yes"})
    assert http.get(f"/ui/packs/{copy_id}").status_code == 404


def test_the_export_link_works_with_the_browser_session(
    http: TestClient, site: Site, mixed_pack: int
) -> None:
    sign_in(http, site, "nadia")
    page = http.get(f"/ui/packs/{mixed_pack}").text
    assert f'href="/packs/{mixed_pack}/export?format=pdf"' in page
    markdown = http.get(f"/packs/{mixed_pack}/export?format=md")
    assert markdown.status_code == 200 and "first note" in markdown.text
    assert HIDDEN_TITLE not in markdown.text and "withheld" in markdown.text
