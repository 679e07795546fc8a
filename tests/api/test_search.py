"""GET and POST /search over a real store: the contract shape, paging, modes, filters, snippets."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.contract import assert_error, assert_search_shape, ids
from tests.api.corpus import ALL_IDS, AUREL, COASTAL, DDR, DELTA, REFUGEE

pytestmark = pytest.mark.backends

Params = list[tuple[str, str | int | float | bool | None]]


def search(reader: TestClient, params: Params | dict[str, Any]) -> dict[str, Any]:
    response = reader.get("/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_search_shape(body)
    return body


def test_search_returns_the_contract_shape(reader: TestClient) -> None:
    body = search(reader, {"q": "ceasefire monitoring observers", "limit": 3})

    assert body["query"] == "ceasefire monitoring observers"
    assert body["mode"] == "hybrid"
    assert body["limit"] == 3 and body["offset"] == 0
    assert body["total"] == len(ALL_IDS)  # dense search reaches every passage of this small store
    assert len(body["results"]) == 3
    top = body["results"][0]
    assert top["document_id"] == AUREL
    assert top["title"] == "Aurel Highlands Ceasefire Agreement"
    assert top["doc_type"] == "agreement"
    assert top["metadata"]["region"] == "Aurel Highlands"
    assert top["metadata"]["year"] == 1998  # derived from the sidecar's date
    assert any("observers" in p["text"] for p in top["passages"])


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_limit_is_respected(reader: TestClient, limit: int) -> None:
    body = search(reader, {"q": "peace process", "limit": limit})
    assert len(body["results"]) == limit
    assert body["total"] == len(ALL_IDS)


def test_offset_pages_are_disjoint_and_match_one_big_page(reader: TestClient) -> None:
    query = "armed groups and the peace process"
    whole = search(reader, {"q": query, "limit": 5})
    pages = [search(reader, {"q": query, "limit": 2, "offset": offset}) for offset in (0, 2, 4)]

    paged = [r for page in pages for r in page["results"]]
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    assert len({r["document_id"] for r in paged}) == 5, "pages overlap"
    assert [r["document_id"] for r in paged] == ids(whole)
    assert [r["score"] for r in paged] == [r["score"] for r in whole["results"]]
    assert all(page["total"] == whole["total"] == 5 for page in pages)
    beyond = search(reader, {"q": query, "limit": 2, "offset": 10})
    assert beyond["results"] == [] and beyond["total"] == 5


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_every_mode_finds_the_obvious_document(reader: TestClient, mode: str) -> None:
    body = search(reader, {"q": "cantonment sites for combatants", "mode": mode})
    assert body["mode"] == mode
    assert ids(body)[0] == AUREL


def test_keyword_mode_only_returns_documents_holding_a_term(reader: TestClient) -> None:
    keyword = search(reader, {"q": "cantonment", "mode": "keyword"})
    dense = search(reader, {"q": "cantonment", "mode": "dense"})

    assert ids(keyword) == [AUREL] and keyword["total"] == 1
    assert set(ids(dense)) == ALL_IDS  # meaning, not words: every passage has a distance


def test_invalid_mode_is_422_in_the_error_shape(reader: TestClient) -> None:
    body = assert_error(reader.get("/search", params={"q": "ceasefire", "mode": "fuzzy"}), 422)
    assert "mode" in body["message"]
    assert_error(reader.post("/search", json={"query": "ceasefire", "mode": "fuzzy"}), 422)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("doc_type", "agreement")], {AUREL, COASTAL}),
        ([("filter", "doc_type=agreement")], {AUREL, COASTAL}),
        ([("doc_type", "agreement"), ("doc_type", "evaluation")], {AUREL, COASTAL, DDR}),
        ([("filter", "region=aurel highlands")], {AUREL, DDR}),
        ([("filter", "region=COASTAL PLAINS")], {COASTAL, REFUGEE}),
        (
            [("filter", "region=Coastal Plains"), ("filter", "region=Northern Delta")],
            {COASTAL, REFUGEE, DELTA},
        ),
        ([("filter", "parties=aurel liberation front")], {AUREL}),  # a list-valued field
        ([("filter", "region=Coastal Plains"), ("doc_type", "agreement")], {COASTAL}),
        ([("date_from", "2005"), ("date_to", "2012")], {COASTAL, DDR}),
        ([("date_to", "1998")], {REFUGEE, AUREL}),  # a year bound keeps all of that year
        ([("date_from", "2012-09-16")], {DELTA}),
        ([("filter", "date_from=2019-03"), ("filter", "date_to=2019-03")], {DELTA}),
        ([("filter", "year_min=2000"), ("filter", "year_max=2015")], {COASTAL, DDR}),
        ([("filter", "year_max=1998")], {REFUGEE, AUREL}),
        ([("filter", "year=2019")], {DELTA}),
        ([("filter", "region=Atlantis")], set()),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_filters_select_exactly_the_matching_documents(
    reader: TestClient, params: Params, expected: set[str], mode: str
) -> None:
    body = search(reader, [("q", "agreement on peace"), ("mode", mode), ("limit", 20), *params])
    assert set(ids(body)) == expected
    assert body["total"] == len(expected)


def test_filters_apply_in_keyword_mode(reader: TestClient) -> None:
    unfiltered = search(reader, {"q": "ceasefire", "mode": "keyword"})
    filtered = search(reader, [("q", "ceasefire"), ("mode", "keyword"), ("doc_type", "evaluation")])
    assert set(ids(unfiltered)) == {AUREL, DDR}
    assert ids(filtered) == [DDR]


@pytest.mark.parametrize(
    "params",
    [
        {"doc_type": "treaty"},
        {"filter": "no-equals-sign"},
        {"filter": 'bad"key=1'},
        {"date_from": "last spring"},
        {"filter": "REGION=Aurel Highlands"},  # keys are exact (values are not)
        {"filter": "nonexistent=anything"},  # an unknown key, not an empty answer
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
    ],
)
def test_bad_search_parameters_are_422(reader: TestClient, params: dict[str, Any]) -> None:
    assert_error(reader.get("/search", params={"q": "ceasefire", **params}), 422)


def test_post_with_a_json_body_equals_get(reader: TestClient) -> None:
    body = {
        "query": "negotiations and elections",
        "filters": {
            "doc_type": ["agreement", "lessons-learned", "other"],
            "region": ["coastal plains", "Northern Delta"],
            "year_min": 2000,
        },
        "mode": "hybrid",
        "limit": 5,
    }
    posted = reader.post("/search", json=body)
    assert posted.status_code == 200, posted.text
    got = search(
        reader,
        [
            ("q", "negotiations and elections"),
            ("doc_type", "agreement"),
            ("doc_type", "lessons-learned"),
            ("doc_type", "other"),
            ("filter", "region=coastal plains"),
            ("filter", "region=Northern Delta"),
            ("filter", "year_min=2000"),
            ("mode", "hybrid"),
            ("limit", 5),
        ],
    )

    assert_search_shape(posted.json())
    assert set(ids(got)) == {COASTAL, DELTA}
    assert posted.json() == got


def test_post_defaults_match_get_defaults(reader: TestClient) -> None:
    posted = reader.post("/search", json={"query": "prisoner exchanges"})
    assert posted.status_code == 200, posted.text
    assert posted.json() == search(reader, {"q": "prisoner exchanges"})
    assert ids(posted.json())[0] == DELTA


BRIEF_SENTENCES = (
    "Fighting has resumed in a mountainous border province after a two-year lull.",
    "Two armed movements and the central government have agreed to meet under regional mediation.",
    "The movements demand a share of mining revenue and guarantees for their fighters.",
    "The government insists on disarmament before any discussion of autonomy.",
    "Tens of thousands of villagers have fled to camps across the river.",
    "Women's groups and religious leaders ask for a seat at the table.",
    "Previous ceasefires collapsed because nobody monitored the withdrawal of heavy weapons.",
    "Donors are willing to fund reintegration but fear that payments will be diverted.",
    "The mediators want precedents for sequencing a ceasefire, cantonment and elections.",
    "They also need examples of how land and property were returned to displaced families.",
)


def long_brief() -> str:
    text = " ".join(f"Day {day}: {sentence}" for day in range(1, 4) for sentence in BRIEF_SENTENCES)
    assert len(text.split()) >= 300
    return text


def test_a_long_brief_is_embedded_in_pieces_and_says_so(reader: TestClient) -> None:
    brief = long_brief()
    body = search(reader, {"q": brief, "limit": 5})

    assert body["query"] == brief
    assert len(body["results"]) == 5
    notices = [n for n in body["notices"] if "pieces" in n]
    assert len(notices) == 1, body["notices"]
    assert int(re.search(r"(\d+) pieces", notices[0]).group(1)) >= 2  # type: ignore[union-attr]
    posted = reader.post("/search", json={"query": brief, "limit": 5, "mode": "dense"})
    assert posted.status_code == 200
    assert [n for n in posted.json()["notices"] if "pieces" in n] == notices


def test_a_short_query_has_no_notice(reader: TestClient) -> None:
    assert search(reader, {"q": "ceasefire"})["notices"] == []


def test_snippet_marks_the_query_terms(reader: TestClient) -> None:
    body = search(reader, {"q": "cantonment weapons", "mode": "keyword"})
    snippet = body["results"][0]["passages"][0]["snippet"]

    assert "<mark>cantonment</mark>" in snippet
    assert "<mark>weapons</mark>" in snippet
    marked = re.findall(r"<mark>(.*?)</mark>", snippet)
    assert marked and all(word.lower() in {"cantonment", "weapons"} for word in marked), marked


def test_snippet_escapes_html_from_the_document(reader: TestClient) -> None:
    body = search(reader, {"q": "restitution fragment", "mode": "keyword"})
    assert ids(body) == [REFUGEE]
    passage = body["results"][0]["passages"][0]

    assert "<script>" in passage["text"]  # the text is the stored text, as it was
    snippet = passage["snippet"]
    assert "&lt;script&gt;" in snippet
    assert "<script>" not in snippet
    assert "<mark>restitution</mark>" in snippet and "<mark>fragment</mark>" in snippet
    without_marks = re.sub(r"</?mark>", "", snippet)
    assert "<" not in without_marks and ">" not in without_marks


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "OR NOT",
        "NEAR(cease fire)",
        "col:val",
        "-x",
        "^x",
        "ceasefire*",
        "ceasefire'; DROP TABLE documents;--",
        "日本語",
        "x" * 3000,
    ],
)
def test_query_syntax_is_never_an_error(reader: TestClient, query: str) -> None:
    for mode in ("keyword", "hybrid"):
        search(reader, {"q": query, "mode": mode})
    assert reader.get("/stats").json()["documents"] == len(ALL_IDS)


def test_a_quoted_phrase_must_match_as_a_phrase(reader: TestClient) -> None:
    assert ids(search(reader, {"q": '"heavy weapons"', "mode": "keyword"})) == [AUREL]
    assert search(reader, {"q": '"weapons heavy"', "mode": "keyword"})["total"] == 0


def test_a_query_of_only_punctuation_is_handled(reader: TestClient) -> None:
    keyword = search(reader, {"q": "?!", "mode": "keyword"})
    assert keyword["results"] == [] and keyword["total"] == 0
    assert_error(reader.get("/search", params={"q": "   "}), 422)


def test_places_and_years_in_the_query_come_back_as_suggested_filters(reader: TestClient) -> None:
    body = reader.get("/search", params={"q": "ceasefire in the Coastal Plains since 2000"}).json()
    suggested = {(s["key"], s["value"]) for s in body["suggested_filters"]}
    assert ("region", "Coastal Plains") in suggested and ("year_min", "2000") in suggested
    coastal = next(s for s in body["suggested_filters"] if s["value"] == "Coastal Plains")
    assert coastal["documents"] == 2
    narrowed = reader.get("/search", params={"q": "ceasefire", "filter": "region=Coastal Plains"})
    assert {r["metadata"]["region"] for r in narrowed.json()["results"]} == {"Coastal Plains"}


def test_a_query_naming_nothing_known_suggests_nothing(reader: TestClient) -> None:
    body = reader.get("/search", params={"q": "weapons handover"}).json()
    assert body["suggested_filters"] == []
