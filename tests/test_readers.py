"""Reading articles: each format, and a defined outcome for each kind of bad input."""
import json
import logging

import pytest

from conftest import SEED
from qa.errors import InputError
from qa.ingest.readers import read_file, read_jsonl, read_paths


def test_seed_txt_headline_standfirst_dateline():
    [doc] = read_file(SEED)
    assert doc.title.startswith("Tokyo’s rhetoric on issue of Ukraine")
    assert doc.text.startswith("Mikhail Galuzin asserted")  # the standfirst opens the text
    assert (doc.place, doc.published, doc.source) == ("Tokyo", "February 2", "TASS")


def test_markdown(tmp_path):
    f = tmp_path / "a.md"
    f.write_text("---\ntitle: Talks end\ndate: 2022-02-02\nsource: Wire\n---\n"
                 "Talks **ended** today. See [the report](http://x.example/r).\n\n"
                 "![chart](http://evil.example/c.png)\n\n## Reaction\n\nThe minister said it was fine.\n")
    [doc] = read_file(f)
    assert (doc.title, doc.published, doc.source) == ("Talks end", "2022-02-02", "Wire")
    assert "Talks ended today. See the report." in doc.text
    assert "evil.example" not in doc.text and "**" not in doc.text and "##" not in doc.text


def test_markdown_heading_is_the_title(tmp_path):
    f = tmp_path / "b.md"
    f.write_text("# Big news\n\nIt happened.\n")
    [doc] = read_file(f)
    assert doc.title == "Big news" and doc.text == "It happened."


def test_html_main_text_title_and_date_kept_scripts_dropped(tmp_path):
    f = tmp_path / "p.html"
    f.write_text("<html><head><title>Envoy speaks</title>"
                 "<meta property='article:published_time' content='2022-02-02'>"
                 "<script>alert('x')</script></head><body><nav>Home | Sport | Contact us</nav>"
                 "<article><h1>Envoy speaks</h1><p>The envoy said the remarks were unhelpful and "
                 "would harm the talks between the two countries.</p><p>He added that he hoped "
                 "for better relations in the coming months.</p></article>"
                 "<footer>Copyright 2022 Example News</footer></body></html>")
    [doc] = read_file(f)
    assert doc.title == "Envoy speaks" and doc.published == "2022-02-02"
    assert "The envoy said the remarks were unhelpful" in doc.text
    assert "alert" not in doc.text and "Copyright" not in doc.text


def test_jsonl_good_and_bad_lines(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "a1", "text": "First article.", "title": "One", "source": "BBC"}),
        "{not json",
        json.dumps({"id": "a2"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "a1", "text": "Same id again."}),
        json.dumps({"id": 7, "text": "Numeric id is fine.", "published": "2005-01-01"}),
        "",
    ]))
    errors = []
    docs = read_jsonl(f, errors)
    assert [d.id for d in docs] == ["a1", "7"]
    assert docs[0].source == "BBC" and docs[1].published == "2005-01-01"
    assert [e.line for e in errors] == [2, 3, 4, 5]
    assert "not valid JSON" in str(errors[0]) and f"{f}:2:" in str(errors[0])
    assert 'no "text"' in str(errors[1])
    assert "duplicate id 'a1' (first on line 1)" in str(errors[3])


def test_jsonl_raises_without_an_error_list(tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text("{bad\n")
    with pytest.raises(InputError, match="b.jsonl:1"):
        read_jsonl(f)


def test_bbc_corpus_shape_reads(tmp_path):
    f = tmp_path / "bbc.jsonl"
    f.write_text(json.dumps({"id": "bbc-1", "category": "tech", "title": "T",
                             "text": "Para one.\n\nPara two."}) + "\n")
    [doc] = read_jsonl(f)
    assert doc.title == "T" and doc.text == "Para one.\n\nPara two."


def test_non_utf8_is_read_as_cp1252_with_a_warning(tmp_path, caplog):
    f = tmp_path / "latin.txt"
    f.write_bytes("Headline\nThe café’s owner said “no”.".encode("cp1252"))
    with caplog.at_level(logging.WARNING):
        [doc] = read_file(f)
    assert doc.text == "The café’s owner said “no”."
    assert "not UTF-8" in caplog.text


def test_utf8_bom_is_dropped(tmp_path):
    f = tmp_path / "bom.txt"
    f.write_bytes("\ufeffHeadline\nBody text.".encode("utf-8"))
    assert read_file(f)[0].title == "Headline"


def test_empty_file_is_skipped_not_an_error(tmp_path):
    (tmp_path / "empty.txt").write_text("   \n")
    result = read_paths([tmp_path])
    assert result.documents == [] and result.errors == []
    assert "no text to index" in result.skipped[0]


def test_files_of_other_types_in_a_folder_are_named_as_skipped(tmp_path):
    (tmp_path / "story.txt").write_text("Headline\nBody text.")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "photo.PNG").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.pdf").write_bytes(b"%PDF-1.4")  # hidden files are not mentioned
    result = read_paths([tmp_path])
    assert [d.title for d in result.documents] == ["Headline"] and result.errors == []
    assert len(result.skipped) == 1
    assert "2 file(s) of a type not read (.pdf 1, .png 1)" in result.skipped[0]
    assert ".txt" in result.skipped[0]  # what is read instead


def test_binary_file_is_refused(tmp_path):
    f = tmp_path / "image.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError, match="binary"):
        read_file(f)


def test_huge_file_is_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr("qa.ingest.readers.MAX_ARTICLE_BYTES", 1000)
    f = tmp_path / "huge.txt"
    f.write_text("Headline\n" + "Words here. " * 200)
    with pytest.raises(InputError, match="QA_MAX_ARTICLE_MB"):
        read_file(f)


def test_unsupported_type_names_the_supported_ones(tmp_path):
    f = tmp_path / "a.pdf"
    f.write_bytes(b"%PDF")
    with pytest.raises(InputError, match=r"\.jsonl"):
        read_file(f)


def test_one_bad_file_does_not_lose_the_others(tmp_path):
    (tmp_path / "good.txt").write_text("Good headline\nGood body sentence.")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "also.md").write_text("# Also good\n\nMore text.")
    (tmp_path / ".hidden.txt").write_text("Hidden\nNot read.")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")  # not an article type: ignored in folders
    result = read_paths([tmp_path, tmp_path / "missing.txt"])
    assert sorted(d.id for d in result.documents) == ["good.txt", "sub/also.md"]
    assert len(result.errors) == 2
    assert any("bad.txt" in str(e) and "binary" in str(e) for e in result.errors)
    assert any("missing.txt" in str(e) and "no such file" in str(e) for e in result.errors)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_read(tmp_path, encoding):
    f = tmp_path / "wide.txt"
    bom = {"utf-16-be": "\ufeff"}.get(encoding, "")  # the "utf-16"/"utf-32" codecs write one
    f.write_bytes((bom + "Заголовок\nThe café’s owner said “no”. Минск ответил.").encode(encoding))
    [doc] = read_file(f)
    assert doc.title == "Заголовок" and doc.text == "The café’s owner said “no”. Минск ответил."


def test_utf16_jsonl_with_a_bom_is_read(tmp_path):
    f = tmp_path / "wide.jsonl"
    f.write_bytes(("\r\n".join(json.dumps({"id": f"w{i}", "text": f"Статья {i} о портах."},
                                          ensure_ascii=False) for i in range(3))).encode("utf-16"))
    assert [(d.id, d.text) for d in read_jsonl(f)] == [(f"w{i}", f"Статья {i} о портах.")
                                                       for i in range(3)]


def test_random_bytes_without_a_nul_are_refused_as_binary(tmp_path):
    import random

    rng = random.Random(14)
    data = bytes(rng.randrange(1, 256) for _ in range(4000))
    assert b"\x00" not in data
    f = tmp_path / "noise.txt"
    f.write_bytes(data)
    with pytest.raises(InputError, match="binary"):
        read_file(f)


def test_a_file_of_control_characters_is_refused_as_binary(tmp_path):
    f = tmp_path / "controls.txt"
    f.write_bytes(b"Headline\n" + b"\x1b[2J\x1c\x07" * 300)
    with pytest.raises(InputError, match="binary"):
        read_file(f)


def test_a_broken_json_line_says_where_in_the_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "x1", "text": "Fine."}\n{"id": "x2", "text": \n{"id": "x3" "text": "y"}\n')
    errors = []
    read_jsonl(f, errors)
    assert "the line ends too early" in str(errors[0]) and f"{f}:2:" in str(errors[0])
    assert "at column 13" in str(errors[1])  # the missing comma after "x3"
