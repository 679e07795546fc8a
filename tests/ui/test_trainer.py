"""The trainer in a real browser: make a pack, add a precedent and a passage from the search,
reorder, write a note, ask for suggestions and add one, export the pack as a PDF."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.ui.conftest import Site, accessible, shot, sign_in

pytestmark = pytest.mark.backends

SEARCH = "/ui/?q=disarmament+of+former+fighters+in+cantonment+sites"
NOTE = "Read this first: how weapons collection was sequenced before reintegration."
# Records every text the export link shows, so the busy state is seen however fast the file is.
WATCH_EXPORT = """(link) => {
  window.exportTexts = [];
  new MutationObserver(() => window.exportTexts.push(link.textContent))
    .observe(link, { childList: true, characterData: true, subtree: true });
}"""


def flat(text: str) -> str:
    return " ".join(text.split())


def test_trainer_builds_a_pack_and_exports_it(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, "tomas")
    page.get_by_role("navigation").get_by_role("link", name="Reading packs").click()
    new_pack = page.locator("details", has_text="New pack")
    if new_pack.get_attribute("open") is None:  # open by itself only while there are no packs
        new_pack.locator("summary").click()
    page.get_by_label("Title").fill("Sequencing disarmament: a two-day course")
    page.get_by_label("Audience").fill("new mediation support officers")
    page.get_by_label("Learning objectives").fill("Compare cantonment designs\nName the risks")
    page.get_by_role("button", name="Create pack").click()
    expect(page.locator("h1")).to_have_text("Sequencing disarmament: a two-day course")
    found = re.search(r"/ui/packs/(\d+)$", page.url)
    assert found is not None
    pack_id = found.group(1)
    expect(page.locator(".objectives li")).to_have_count(2)

    # From the search: the whole DDR protocol, then a passage of another document.
    page.goto(SEARCH)
    cards = page.locator(".card")
    protocol = cards.filter(has_text="Protocol on the Disarmament").first
    expect(protocol.get_by_label("Pack")).to_have_value(pack_id)  # the pack just made
    shot(page, "search-add-to-pack")
    accessible(page)
    protocol.get_by_role("button", name="Add document to pack").click()
    expect(page.locator(".flash")).to_contain_text("Added “Protocol on the Disarmament")
    other = cards.filter(has_not_text="Protocol on the Disarmament").first
    other_title = other.locator("h3").inner_text()
    other.get_by_role("button", name="Add passage to pack").first.click()
    expect(page.locator(".flash")).to_contain_text("Added a passage (p")
    expect(page.locator(".flash")).to_contain_text(other_title)

    # The builder: two items in the order added; move the passage up (at once, by script).
    page.get_by_role("navigation").get_by_role("link", name="Reading packs").click()
    page.get_by_role("link", name="Sequencing disarmament: a two-day course").click()
    items = page.locator("li.item")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator(".citation a")).to_contain_text("Protocol on the Disarmament")
    passage = items.nth(1).locator("blockquote.passage").inner_text()
    assert len(passage.split()) > 8
    items.nth(1).get_by_role("button", name="Move up").click()
    expect(items.nth(0).locator(".citation a")).to_have_text(other_title)
    expect(page.locator("#move-status")).to_have_text("Moved to place 1.")
    # the keyboard focus stays with the moved item (its Move up is now disabled)
    expect(items.nth(0).get_by_role("button", name="Move down")).to_be_focused()
    page.reload()  # the move was stored, not only drawn
    expect(items.nth(0).locator(".citation a")).to_have_text(other_title)

    items.nth(0).get_by_label("Note for item 1").fill(NOTE)
    items.nth(0).get_by_role("button", name="Save note").click()
    expect(page.locator(".flash")).to_have_text("Note saved.")
    expect(page.get_by_label("Note for item 1")).to_have_value(NOTE)
    shot(page, "pack-builder")
    accessible(page)

    # Suggestions for a theme; add one: its why becomes the note.
    page.get_by_role("link", name="Suggest items for a theme").click()
    page.get_by_label("Theme").fill("refugee return, ceasefire monitoring")
    page.get_by_label("How many").fill("4")
    page.get_by_role("button", name="Suggest").click()
    suggestions = page.locator(".suggestions-list .card")
    expect(suggestions.first).to_be_visible()
    shot(page, "pack-suggest")
    accessible(page)
    pick = suggestions.filter(has=page.get_by_role("button", name=re.compile("to the pack$")))
    pick = pick.first
    why = pick.locator(".why").inner_text().removeprefix("Why:").strip()
    pick_title = pick.locator("h3").inner_text()
    pick.get_by_role("button", name=re.compile("to the pack$")).click()
    expect(page.locator(".flash")).to_contain_text("Added 1 item")
    expect(suggestions.filter(has_text=pick_title)).to_contain_text("Already in the pack.")
    page.goto(f"/ui/packs/{pack_id}")
    expect(items).to_have_count(3)
    expect(items.nth(2).locator(".citation a")).to_have_text(pick_title)
    expect(items.nth(2).get_by_label("Note for item 3")).to_have_value(why)

    # Export the PDF: the link shows it is busy, then the file arrives.
    link = page.get_by_role("link", name="PDF", exact=True)
    link.evaluate(WATCH_EXPORT)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    expect(link).to_have_text("PDF")
    assert "Preparing PDF…" in page.evaluate("window.exportTexts")
    expect(page.locator(".export-status")).to_contain_text("PDF ready")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = flat(" ".join(p.extract_text() for p in PdfReader(saved).pages))
    assert flat(" ".join(passage.split()[:10])) in text
    assert NOTE in text and "Sequencing disarmament" in text
    cover = pypdfium2.PdfDocument(saved)[0].render(scale=1).to_pil().convert("L")
    darkest, lightest = cover.getextrema()  # type: ignore[misc]
    assert lightest == 255 and darkest < 100  # white paper with ink on it
    inked = sum(cover.histogram()[:128])  # pixels darker than mid-grey
    assert inked > 500, inked

    # The list: the pack with its audience and count; a copy keeps the items.
    page.get_by_role("navigation").get_by_role("link", name="Reading packs").click()
    row = page.locator(".pack-list li", has_text="Sequencing disarmament: a two-day course")
    expect(row.first).to_contain_text("For new mediation support officers")
    expect(row.first).to_contain_text("3 items")
    shot(page, "packs")
    accessible(page)


def test_the_builder_reads_at_360_pixels(page: Page, site: Site) -> None:
    pack = site.kb.create_pack("A pack read on a phone", "root", "field staff", ["Read it"])
    chunk = site.kb.chunks("aurel-highlands-ddr-protocol-2000")[1].chunk_id
    site.kb.add_to_pack(pack.pack_id, "aurel-highlands-ddr-protocol-2000", chunk, "x" * 300)
    try:
        sign_in(page, site, "tomas")
        page.set_viewport_size({"width": 360, "height": 740})
        for url in (f"/ui/packs/{pack.pack_id}", "/ui/packs", SEARCH):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (url, width)
        page.goto(f"/ui/packs/{pack.pack_id}")
        shot(page, "pack-builder-360px")
        accessible(page)
    finally:
        site.kb.delete_pack(pack.pack_id)


def test_a_reader_sees_the_pack_without_controls(page: Page, site: Site) -> None:
    pack = site.kb.create_pack("A pack to read", "root")
    site.kb.add_to_pack(pack.pack_id, "aurel-highlands-ddr-protocol-2000", None, "a note")
    try:
        sign_in(page, site, "nadia")
        page.goto(f"/ui/packs/{pack.pack_id}")
        expect(page.locator("li.item .note")).to_have_text("Note: a note")
        expect(page.get_by_role("button", name="Move up")).to_have_count(0)
        expect(page.get_by_role("link", name="PDF", exact=True)).to_be_visible()
        page.goto(SEARCH)
        expect(page.locator(".card").first).to_be_visible()
        expect(page.get_by_role("button", name="Add document to pack")).to_have_count(0)
    finally:
        site.kb.delete_pack(pack.pack_id)
