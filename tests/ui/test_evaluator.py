"""The evaluator in a real browser: upload a PDF with its metadata and watch it go, find it,
open it, edit a field, see its versions, delete it, find it in the trash, restore it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fpdf import FPDF
from playwright.sync_api import Browser, Page, expect

from kb.errors import NotFoundError
from tests.ui.conftest import Site, accessible, shot, sign_in

pytestmark = pytest.mark.backends

DOCUMENT = "lake-morva-fisheries-accord"
TITLE = "Lake Morva Fisheries Accord"


def make_pdf(path: Path) -> Path:
    """Two pages of text no sample document shares."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for page in (
        "Article 1. The parties establish a joint board for the Lake Morva fisheries, which "
        "sets yearly catch quotas for each shore and publishes them before the season opens.",
        "Article 2. Net sizes and closed seasons for spawning grounds are verified by mixed "
        "patrols of both shores; disputes go to the board, then to a neutral arbiter.",
    ):
        pdf.add_page()
        pdf.multi_cell(0, 8, page)
    pdf.output(str(path))
    return path


@pytest.fixture
def browser_without_js(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def cleanup(site: Site) -> Iterator[None]:
    yield
    for step in (site.kb.delete, site.kb.purge):
        try:
            step(DOCUMENT)
        except NotFoundError:
            pass


def test_evaluator_uploads_finds_edits_deletes_and_restores(
    page: Page, site: Site, tmp_path: Path, cleanup: None
) -> None:
    pdf = make_pdf(tmp_path / f"{DOCUMENT}.pdf")
    sign_in(page, site, "eva")
    page.get_by_role("link", name="Upload").click()
    expect(page.locator("h1")).to_have_text("Upload documents")
    page.get_by_label("Files").set_input_files(str(pdf))
    page.get_by_label("Document type").select_option("evaluation")
    # the fields the chosen type requires are marked as the type changes
    region = page.locator(".field", has=page.get_by_label("Region", exact=False))
    expect(region.locator(".req-mark")).to_be_visible()
    page.get_by_label("Document type").select_option("agreement")
    expect(region.locator(".req-mark")).to_be_hidden()
    page.get_by_label("Title (one file only)").fill(TITLE)
    page.get_by_label("Date").fill("12 March 2003")
    page.get_by_label("Parties").fill("Republic of Morva; Free State of Lisk")
    shot(page, "upload")
    accessible(page)

    # Without a stage the schema refuses it: the message sits by the field, nothing added.
    page.get_by_role("button", name="Upload").click()
    stage_error = page.locator("#m_stage-error")
    expect(stage_error).to_contain_text("stage is required for an agreement")
    expect(page.get_by_label("Parties")).to_have_value("Republic of Morva; Free State of Lisk")
    with pytest.raises(NotFoundError):
        site.kb.get_document(DOCUMENT)

    # The form is sent by XMLHttpRequest: the progress shows bytes, then processing.
    page.get_by_label("Files").set_input_files(str(pdf))
    page.get_by_label("Stage").select_option("framework")
    page.evaluate(
        """() => {
          window.seenStates = [];
          const state = document.querySelector('#upload-state');
          new MutationObserver(() => window.seenStates.push(state.textContent))
            .observe(state, {childList: true, characterData: true, subtree: true});
        }"""
    )
    with page.expect_request(lambda r: r.method == "POST" and "/ui/upload" in r.url) as sent:
        page.get_by_role("button", name="Upload").click()
    assert sent.value.resource_type == "xhr"
    results = page.locator("#results")
    expect(results).to_be_visible()
    expect(results.locator("tr.outcome-added")).to_contain_text(f"{DOCUMENT}.pdf")
    expect(results.get_by_role("link", name=TITLE)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/ui/upload$"))
    # The window stays (only its main region was replaced): what the status line said.
    states = page.evaluate("window.seenStates")
    assert states[0] == "Sending…"
    assert any(s.startswith("Processing") for s in states), states
    shot(page, "upload-result")
    accessible(page)

    # Search finds it; it opens at its page.
    page.goto("/ui/")
    page.get_by_label("Describe the crisis").fill("fisheries catch quotas for each shore")
    page.get_by_role("button", name="Find precedents").click()
    card = page.locator(".card", has_text=TITLE)
    expect(card).to_have_count(1)
    card.get_by_role("link", name=TITLE).click()
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".fields")).to_contain_text("Free State of Lisk")
    # The uploaded file itself is kept and linked.
    original = page.request.get(page.locator("#original-link").get_attribute("href") or "")
    assert original.ok and original.body().startswith(b"%PDF")

    # Edit a field: back on the document with a message.
    page.get_by_role("link", name="Edit metadata").click()
    expect(page.get_by_label("Date")).to_have_value("2003-03-12")
    page.get_by_label("Stage").select_option("implementation")
    page.get_by_label("Themes").fill("fisheries; border lakes")
    shot(page, "edit")
    accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    expect(page.locator(".fields")).to_contain_text("implementation")
    expect(page.locator(".fields")).to_contain_text("border lakes")

    page.get_by_role("link", name=re.compile(r"^Versions")).click()
    expect(page.locator("table.versions tbody tr")).to_have_count(1)
    expect(page.locator("table.versions")).to_contain_text("ui:eva")
    shot(page, "versions")
    accessible(page)
    page.get_by_role("link", name="Version 1").click()
    expect(page.locator(".chunks")).to_contain_text("Lake Morva")
    page.get_by_role("link", name="The current document").click()

    # Delete (confirm first), find it in the trash, restore it.
    page.get_by_text("Delete…").click()
    page.get_by_role("button", name="Move to trash").click()
    expect(page).to_have_url(re.compile(r"/ui/trash$"))
    expect(page.locator(".flash")).to_contain_text("Moved")
    row = page.locator(f'tr[data-document-id="{DOCUMENT}"]')
    expect(row).to_contain_text(TITLE)
    shot(page, "trash")
    accessible(page)
    page.goto("/ui/?q=fisheries+catch+quotas+for+each+shore")
    expect(page.locator(".card", has_text=TITLE)).to_have_count(0)
    page.goto("/ui/trash")
    row.get_by_role("button", name=f"Restore {TITLE}").click()
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".flash")).to_contain_text("Restored")


def test_the_upload_form_works_without_javascript(
    browser_without_js: Page, site: Site, tmp_path: Path, cleanup: None
) -> None:
    page = browser_without_js
    pdf = make_pdf(tmp_path / f"{DOCUMENT}.pdf")
    sign_in(page, site, "eva")
    page.goto("/ui/upload")
    page.get_by_label("Files").set_input_files(str(pdf))
    page.get_by_label("Document type").select_option("other")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("tr.outcome-added")).to_contain_text(f"{DOCUMENT}.pdf")
    expect(page.locator("#upload-progress")).to_be_hidden()


def test_a_narrow_screen_still_shows_the_whole_form(page: Page, site: Site) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(page, site, "eva")
    page.goto("/ui/upload")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    shot(page, "upload-360")
