"""Metadata: dates to ISO, sidecar files, slugs and document ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.metadata import (
    check_doc_type,
    check_document_id,
    is_sidecar,
    normalise_date,
    normalise_metadata,
    read_sidecar,
    sidecar_for,
    slug,
)
from kb.errors import CorruptFileError, InvalidRequestError
from tests.docs import write

# -- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("12 March 1998", "1998-03-12"),
        ("12 Mar 1998", "1998-03-12"),
        ("March 12, 1998", "1998-03-12"),
        ("Mar 12, 1998", "1998-03-12"),
        ("March 12 1998", "1998-03-12"),
        ("1998-03-12", "1998-03-12"),
        ("1998/03/12", "1998-03-12"),
        ("1998.03.12", "1998-03-12"),
        ("12-03-1998", "1998-03-12"),
        ("12.03.1998", "1998-03-12"),
        ("19980312", "1998-03-12"),
        ("1998-3-5", "1998-03-05"),
        ("  7 July 1999 ", "1999-07-07"),
        ("1998", "1998"),
        (1998, "1998"),
        ("1998-03", "1998-03"),
        ("1998/03", "1998-03"),
        ("March 1998", "1998-03"),
        ("Mar 1998", "1998-03"),
        ("1998-03-12T10:00:00", "1998-03-12"),
        ("1998-03-12T10:00:00Z", "1998-03-12"),
        ("1998-03-12T23:30:00.250+02:00", "1998-03-12"),
    ],
)
def test_normalise_date_gives_iso(value: Any, iso: str) -> None:
    assert normalise_date(value) == iso


@pytest.mark.parametrize(
    "value",
    [
        "n.d.",
        "spring 1998",
        "sometime after the war",
        "",
        "1998-13-45",
        "31 February 1998",
        "12/03/1998",
        98,
        12345,
        3.5,
        None,
        True,
        ["1998"],
    ],
)
def test_normalise_date_returns_anything_else_unchanged(value: Any) -> None:
    result = normalise_date(value)

    assert result == value
    assert type(result) is type(value)


# -- metadata --------------------------------------------------------------------------


def test_normalise_metadata_puts_dates_in_iso_form_and_derives_the_year() -> None:
    metadata = normalise_metadata(
        {"date": "12 March 1998", "signed_date": "March 1998", "country": "Liberia"}
    )

    assert metadata == {
        "date": "1998-03-12",
        "signed_date": "1998-03",
        "country": "Liberia",
        "year": 1998,
    }


def test_normalise_metadata_derives_the_year_from_a_year_only_date() -> None:
    assert normalise_metadata({"date": 2001}) == {"date": "2001", "year": 2001}


def test_normalise_metadata_keeps_a_year_that_is_given() -> None:
    assert normalise_metadata({"date": "1998-03-12", "year": 1999}) == {
        "date": "1998-03-12",
        "year": 1999,
    }


def test_normalise_metadata_derives_no_year_from_an_unreadable_date() -> None:
    assert normalise_metadata({"date": "undated"}) == {"date": "undated"}


def test_normalise_metadata_leaves_fields_that_are_not_dates_alone() -> None:
    raw = {"signatories": "12 March 1998", "pages": 40, "parties": ["GoL", "LURD"]}

    assert normalise_metadata(raw) == raw


@pytest.mark.parametrize("key", ['bad"key', "", "x" * 201, " lead", "tab\there"])
def test_normalise_metadata_refuses_bad_keys(key: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        normalise_metadata({key: "value"})

    assert repr(key) in caught.value.message


# -- sidecars --------------------------------------------------------------------------


def test_sidecar_for_finds_name_meta_json(tmp_path: Path) -> None:
    document = write(tmp_path, "accord.pdf", b"%PDF")
    sidecar = write(tmp_path, "accord.meta.json", "{}")

    assert sidecar_for(document) == sidecar


def test_sidecar_for_finds_name_ext_meta_json(tmp_path: Path) -> None:
    document = write(tmp_path, "accord.pdf", b"%PDF")
    sidecar = write(tmp_path, "accord.pdf.meta.json", "{}")

    assert sidecar_for(document) == sidecar


def test_sidecar_for_prefers_name_meta_json_when_both_exist(tmp_path: Path) -> None:
    document = write(tmp_path, "accord.pdf", b"%PDF")
    write(tmp_path, "accord.pdf.meta.json", "{}")
    short = write(tmp_path, "accord.meta.json", "{}")

    assert sidecar_for(document) == short


def test_sidecar_for_is_none_without_a_sidecar(tmp_path: Path) -> None:
    document = write(tmp_path, "accord.pdf", b"%PDF")
    write(tmp_path, "other.meta.json", "{}")
    (tmp_path / "accord.pdf.meta.json").mkdir()  # a folder is not a sidecar

    assert sidecar_for(document) is None


def test_sidecar_for_a_name_with_several_dots(tmp_path: Path) -> None:
    document = write(tmp_path, "accord.v2.pdf", b"%PDF")
    sidecar = write(tmp_path, "accord.v2.meta.json", "{}")

    assert sidecar_for(document) == sidecar


def test_is_sidecar() -> None:
    assert is_sidecar(Path("x/accord.meta.json"))
    assert is_sidecar(Path("accord.pdf.meta.json"))
    assert not is_sidecar(Path("accord.json"))
    assert not is_sidecar(Path("meta.json.pdf"))


def test_read_sidecar_reads_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, "a.meta.json", '\ufeff{"title": "Accord de Lomé", "year": 1999}')

    assert read_sidecar(path) == {"title": "Accord de Lomé", "year": 1999}


@pytest.mark.parametrize("text", ["[1, 2]", '"a string"', "42", "null"])
def test_read_sidecar_refuses_json_that_is_not_an_object(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "accord.meta.json", text)

    with pytest.raises(CorruptFileError) as caught:
        read_sidecar(path)

    assert caught.value.source == "accord.meta.json"
    assert caught.value.message == "accord.meta.json: a metadata sidecar must hold a JSON object"


@pytest.mark.parametrize("data", [b'{"title": "Accord",', b"", b'{"title": "\xff\xfe"}'])
def test_read_sidecar_refuses_broken_json_naming_the_sidecar(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "accord.pdf.meta.json", data)

    with pytest.raises(CorruptFileError) as caught:
        read_sidecar(path)

    assert caught.value.message.startswith("accord.pdf.meta.json: unreadable metadata sidecar")


# -- identifiers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Lome Peace Agreement (1999)", "lome-peace-agreement-1999"),
        ("ICPE_Liberia__2019", "icpe-liberia-2019"),
        ("  --Arusha--  ", "arusha"),
        ("UN.SC.Res.1509", "un-sc-res-1509"),
        ("!!!", "document"),
        ("", "document"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_slug_is_at_most_200_characters_and_a_valid_document_id() -> None:
    value = slug("word " * 100)

    assert len(value) == 200
    assert check_document_id(value) == value


def test_slug_keeps_file_names_in_other_scripts_apart() -> None:
    ids = {slug("اتفاق السلام"), slug("协议"), slug("Соглашение")}

    assert len(ids) == 3


@pytest.mark.parametrize(
    "document_id", ["accord", "pax-1998_03:v1.2", "A", "9" * 200, "é", "协议-2001"]
)
def test_check_document_id_accepts_and_returns_valid_ids(document_id: str) -> None:
    assert check_document_id(document_id) == document_id


@pytest.mark.parametrize(
    "document_id",
    ["../etc", "", ".hidden", "-flag", "a/b", "a b", "a\\b", "x" * 201, "a\nb", "\n"],
)
def test_check_document_id_refuses_unsafe_ids(document_id: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_document_id(document_id)

    assert repr(document_id) in caught.value.message


def test_check_document_id_refuses_a_trailing_newline() -> None:
    with pytest.raises(InvalidRequestError):
        check_document_id("accord\n")


def test_check_doc_type() -> None:
    assert check_doc_type("evaluation", "r.pdf") == "evaluation"
    with pytest.raises(InvalidRequestError) as caught:
        check_doc_type("treaty", "r.pdf")
    assert caught.value.message.startswith("r.pdf: doc_type must be one of agreement,")
