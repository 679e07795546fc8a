"""The negotiator in a real browser: sign in, search with a brief and filters, open a precedent
at its page, follow "more like this"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import Site, accessible, shot, sign_in

pytestmark = pytest.mark.backends

BRIEF = (
    "Fighting has stopped in a highland province after a negotiated ceasefire. Thousands of "
    "former fighters remain in cantonment sites and the government wants them disarmed and "
    "reintegrated into civilian life. Donors ask how weapons collection, demobilisation and "
    "reintegration were sequenced elsewhere, and what went wrong for the children and women "
    "associated with armed groups."
)


def test_a_page_asks_for_sign_in_first(page: Page, site: Site) -> None:
    page.goto("/ui/?q=ceasefire")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next="))
    page.get_by_label("API key").fill("kb_wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    shot(page, "signin")
    accessible(page)
    page.get_by_label("API key").fill(site.keys["nadia"])
    page.get_by_role("button", name="Sign in").click()
    # back where the user was going, with the query kept
    expect(page).to_have_url(re.compile(r"/ui/\?q=ceasefire"))
    expect(page.locator(".card").first).to_be_visible()


def test_negotiator_searches_with_a_brief_and_filters_and_opens_the_page(
    page: Page, site: Site
) -> None:
    sign_in(page, site, "nadia")
    page.get_by_label("Describe the crisis").fill(BRIEF)
    page.get_by_role("button", name="Find precedents").click()
    cards = page.locator(".card")
    expect(cards.first).to_be_visible()
    assert "disarmament" in cards.first.inner_text().lower()
    shot(page, "search-brief")
    accessible(page)

    # Narrow to agreements: every card says so.
    page.get_by_label("agreement").check()
    page.get_by_role("button", name="Find precedents").click()
    expect(cards.first).to_be_visible()
    for tag in cards.locator(".meta .tag").all_inner_texts():
        assert tag == "agreement"
    card = cards.filter(has_text="Protocol on the Disarmament")
    expect(card).to_have_count(1)
    shot(page, "search-filtered")

    # Open the first passage at its page: the document opens on that passage.
    passage_link = card.locator(".passages a.page").first
    pages_text = passage_link.inner_text()
    passage_link.click()
    expect(page.locator("h1")).to_contain_text("Protocol on the Disarmament")
    focus = page.locator(".chunk.focus")
    expect(focus).to_have_count(1)
    expect(focus.locator(".where")).to_contain_text(pages_text)
    original = page.locator("#original-link")
    first_page = re.search(r"\d+", pages_text)
    assert first_page is not None
    expect(original).to_have_attribute("href", re.compile(rf"#page={first_page.group(0)}$"))
    shot(page, "document")
    accessible(page)

    # The original PDF opens in the browser (inline, not as a download), at that page.
    href = original.get_attribute("href")
    assert href is not None
    pdf = page.request.get(href.split("#")[0])
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.body().startswith(b"%PDF")
    opened = page.goto(href)
    assert opened is not None and opened.status == 200
    assert page.url.endswith(f"#page={first_page.group(0)}")
    page.go_back()

    page.get_by_role("link", name="More like this").first.click()
    expect(page.locator("h1")).to_contain_text("More like")
    expect(page.locator(".card").first).to_be_visible()


HIDDEN_QUERY = "/ui/?q=mediation+support+boundary+negotiations+evaluation"
HIDDEN_TITLE = "Mediation Support to the Kestria-Orlav Boundary Negotiations"


def test_a_hidden_document_is_not_found_in_the_browser(page: Page, site: Site) -> None:
    """nadia is cleared to internal; the Tamsin mediation evaluation is restricted."""
    sign_in(page, site, "nadia")
    page.goto(HIDDEN_QUERY)
    expect(page.locator(".card").first).to_be_visible()
    shown = page.locator(".card").all_inner_texts()
    assert shown and not any(HIDDEN_TITLE in text for text in shown)
    response = page.goto("/ui/documents/tamsin-plateau-mediation-evaluation-2004")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")


def test_a_cleared_user_sees_it(page: Page, site: Site) -> None:
    """The control for the test above: eva is cleared to confidential."""
    sign_in(page, site, "eva")
    page.goto(HIDDEN_QUERY)
    expect(page.locator(".card").filter(has_text=HIDDEN_TITLE)).to_have_count(1)
    response = page.goto("/ui/documents/tamsin-plateau-mediation-evaluation-2004")
    assert response is not None and response.status == 200


def test_search_is_usable_at_360_pixels(page: Page, site: Site) -> None:
    sign_in(page, site, "nadia")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/ui/?q=refugee+return")
    expect(page.locator(".card").first).to_be_visible()
    # nothing wider than the screen: no sideways scrolling
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    shot(page, "search-360px")
    accessible(page)


def test_the_accessibility_check_can_fail(page: Page) -> None:
    """The control for `accessible`: a page with an unlabelled field and grey-on-white text."""
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<input name="q"><p style="color:#bbb">faint</p></main></body></html>'
    )
    with pytest.raises(AssertionError) as failed:
        accessible(page)
    assert "label" in str(failed.value) and "color-contrast" in str(failed.value)


def test_facets_count_and_narrow(page: Page, site: Site) -> None:
    """Facet counts follow the viewer (nadia sees no restricted document) and narrow the list."""
    sign_in(page, site, "nadia")
    page.goto("/ui/")
    facets = page.locator("aside.facets")
    expect(facets).to_contain_text("17 documents meet the filters")  # 18 less the restricted one
    expect(facets).not_to_contain_text("restricted")
    facets.get_by_role("link", name="evaluation").click()
    expect(facets).to_contain_text("4 documents meet the filters")
    expect(page.locator("#browse-heading")).to_have_text("4 documents, newest first")
    for tag in page.locator(".card .meta .tag").all_inner_texts():
        assert tag == "evaluation"
    shot(page, "browse-facets")
    accessible(page)
    facets.get_by_role("link", name="evaluation, chosen: remove").click()
    expect(facets).to_contain_text("17 documents meet the filters")


def test_a_keyboard_alone_searches_and_opens_a_precedent(page: Page, site: Site) -> None:
    sign_in(page, site, "nadia")
    page.goto("/ui/")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")  # skip to content: the next Tab reaches the search box
    page.keyboard.press("Tab")
    expect(page.get_by_label("Describe the crisis")).to_be_focused()
    page.keyboard.type("water sharing in a drought")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".card").first).to_be_visible()
    title = page.locator(".card h3 a").first
    name = title.inner_text()
    for _ in range(80):  # Tab on through the form, the facets and the suggestions
        page.keyboard.press("Tab")
        if title.evaluate("link => link === document.activeElement"):
            break
    expect(title).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(name)
