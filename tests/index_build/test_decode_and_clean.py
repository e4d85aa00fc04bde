"""The seed articles come out repaired, without site boilerplate, with the right metadata."""

from __future__ import annotations

import codecs

import pytest

from index_build.chunk import chunk_document
from index_build.clean import lead_title, parse_byline, split_stories, strip_boilerplate
from index_build.decode import UndecodableError, decode_bytes, repair_text
from index_build.read import read_source
from tests.conftest import SEED_000, SEED_001, SEEDS

DAMAGE = ["â€", "ยท", "†"]
BOILERPLATE = [">>Follow Matzav On Whatsapp!<<", "Please enter your comment!", "Please enter your name here"]


@pytest.fixture(scope="module")
def seed_docs():
    return {name: read_source(SEEDS / name, SEEDS, 10 * 2**20) for name in (SEED_000, SEED_001)}


def test_seed_files_contain_the_damage_the_cleaner_must_repair():
    raw = (SEEDS / SEED_000).read_text("utf-8") + (SEEDS / SEED_001).read_text("utf-8")
    for needle in DAMAGE + BOILERPLATE:
        assert needle in raw, needle


@pytest.mark.parametrize("needle", DAMAGE + BOILERPLATE)
def test_no_mojibake_or_boilerplate_left_in_any_seed_document(seed_docs, needle):
    for docs in seed_docs.values():
        for doc in docs:
            assert needle not in doc.text
            assert needle not in doc.title


def test_curly_quotes_survive_cleaning(seed_docs):
    text = "".join(d.text for docs in seed_docs.values() for d in docs)
    for quote in "“”’":
        assert quote in text
    assert '"' not in text  # nothing was straightened


def test_repaired_quotes_read_as_the_original_sentences(seed_docs):
    bloomberg = "".join(d.text for d in seed_docs[SEED_001])
    assert "demand for “simultaneous actions” by the two sides." in bloomberg
    assert "enforce sanctions on North Korea,” Pompeo said." in bloomberg
    assert "would take very seriously.”\n" in bloomberg
    assert "can be no easing of sanctions.”" in bloomberg


def test_washington_post_seed_metadata(seed_docs):
    (doc,) = seed_docs[SEED_000]
    assert doc.title == "State Department Official Quietly Visits Moscow To Discuss North Korea"
    assert doc.publisher == "The Washington Post"
    assert doc.author == "Josh Rogin"
    assert doc.published == "2017"
    assert doc.source == SEED_000


def test_byline_line_is_kept_as_citable_content(seed_docs):
    (doc,) = seed_docs[SEED_000]
    assert "(c) 2017, The Washington Post · Josh Rogin" in doc.text
    assert doc.text.rstrip().endswith("Josh Rogin")


def test_bloomberg_seed_splits_into_two_stories(seed_docs):
    docs = seed_docs[SEED_001]
    assert len(docs) == 2
    first, second = docs
    assert second.title == "Haley slams Russia over report on North Korea work permits"
    assert second.text.startswith("Haley slams Russia over report on North Korea work permits")
    assert "Haley" not in first.text
    assert "Pompeo" in first.text and "Pompeo" not in second.text
    assert {d.publisher for d in docs} == {"Bloomberg"}
    assert first.doc_id != second.doc_id
    assert first.source == second.source == SEED_001
    assert first.title and first.title != second.title


def test_each_bloomberg_chunk_carries_its_own_story_headline(seed_docs):
    first, second = seed_docs[SEED_001]
    first_chunks = chunk_document(first)
    second_chunks = chunk_document(second)
    assert len(first_chunks) >= 2 and second_chunks
    for chunk in first_chunks:
        assert chunk.embed_text.startswith(first.title + "\nBloomberg\n\n")
        assert "Haley slams Russia" not in chunk.embed_text
    for chunk in second_chunks:
        assert chunk.embed_text.startswith("Haley slams Russia over report on North Korea work permits\nBloomberg")
        # The headline is in what is embedded, but not in the citable chunk text unless it is
        # really there.
        assert chunk.text == second.text[chunk.start:chunk.end]


def test_washington_post_chunks_embed_headline_and_publisher(seed_docs):
    (doc,) = seed_docs[SEED_000]
    chunks = chunk_document(doc)
    assert len(chunks) >= 3
    header = "State Department Official Quietly Visits Moscow To Discuss North Korea\nThe Washington Post\n\n"
    assert all(c.embed_text == header + c.text for c in chunks)


# -- the repair table ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "damaged, repaired",
    [
        ("he said “done.â€\nNext line", "he said “done.”\nNext line"),
        ("he said “done.â€", "he said “done.”"),
        ("demand for “simultaneous actions†by the two sides", "demand for “simultaneous actions” by the two sides"),
        ("“quick, polite exchange†with", "“quick, polite exchange” with"),
        ("(c) 2017, The Washington Post ยท Josh Rogin", "(c) 2017, The Washington Post · Josh Rogin"),
        ("Bâ€™s are fine", "B’s are fine"),  # ftfy's own repair still runs first
    ],
)
def test_repair_table_fixes_damaged_text(damaged, repaired):
    assert repair_text(damaged) == repaired


@pytest.mark.parametrize(
    "genuine",
    [
        "Smith† and Jones (†deceased)",
        "ภาษาไทยท",
        "ภาษาไทย ยท ไทย",
        "Price: 5 € — “quoted” and ‘single’.",
        "Café naïve résumé",
    ],
)
def test_repair_table_leaves_genuine_daggers_thai_and_quotes_alone(genuine):
    assert repair_text(genuine) == genuine


def test_boilerplate_rules_remove_whole_lines_only():
    text = (
        "Headline Here\n\n>>Follow Matzav On Whatsapp!<<\n\nBody says: please enter your comment! was a prompt.\n"
        "Please enter your comment!\nPlease enter your name here\n"
    )
    out = strip_boilerplate(text)
    assert out == "Headline Here\n\nBody says: please enter your comment! was a prompt."


def test_byline_parser_reads_year_publisher_author():
    assert parse_byline("Body.\n(c) 2017, The Washington Post · Josh Rogin\n") == {
        "published": ("2017", "copyright line"), "publisher": ("The Washington Post", "copyright line"),
        "author": ("Josh Rogin", "copyright line"),
    }
    assert parse_byline("No byline in this text.") == {}


@pytest.mark.parametrize(
    "lead, found",
    [
        ("By Elena Marquez", {"author": "Elena Marquez"}),
        ("BY ELENA MARQUEZ", {"author": "ELENA MARQUEZ"}),
        ("By Elena Marquez and Tom Reyes", {"author": "Elena Marquez and Tom Reyes"}),
        ("By Jane Doe, John Roe and Ann Poe", {"author": "Jane Doe, John Roe and Ann Poe"}),
        ("By Maria de la Cruz", {"author": "Maria de la Cruz"}),
        ("By Elena Marquez, Coastal Ledger", {"author": "Elena Marquez", "publisher": "Coastal Ledger"}),
        ("By Elena Marquez | Coastal Ledger", {"author": "Elena Marquez", "publisher": "Coastal Ledger"}),
        ("By Elena Marquez, Coastal Ledger / March 14, 2024",
         {"author": "Elena Marquez", "publisher": "Coastal Ledger", "published": "March 14, 2024"}),
        ("By Elena Marquez / 2024-03-14", {"author": "Elena Marquez", "published": "2024-03-14"}),
        ("WASHINGTON (Reuters) - The Senate voted on Tuesday.", {"publisher": "Reuters"}),
        ("SAN JUAN, Puerto Rico (AP) — The storm hit the island.", {"publisher": "AP"}),
        ("Published March 14, 2024 at 10:00 a.m. EDT", {"published": "March 14, 2024"}),
        ("Updated 2024-03-14", {"published": "2024-03-14"}),
        ("2024-03-14", {"published": "2024-03-14"}),
        ("March 14, 2024", {"published": "March 14, 2024"}),
        ("Thursday, 14 March 2024", {"published": "Thursday, 14 March 2024"}),
        # prose, not bylines or date lines
        ("By the end of May, officials said the deal was off.", {}),
        ("By Tuesday, the ministry had withdrawn its offer.", {}),
        ("March 14, 2024 was the day the vote came.", {}),
        ("NATO allies met in Brussels (Belgium) on Monday.", {}),
    ],
)
def test_lead_lines_give_author_publisher_and_date(lead, found):
    got = parse_byline(f"Harbour Reopens After Storm\n\n{lead}\n\nThe harbour reopened on Monday, officials said.")
    assert {k: v for k, (v, _) in got.items()} == found


def test_lead_lines_say_where_each_value_came_from_and_published_beats_updated():
    text = ("Harbour Reopens\nBy Elena Marquez\nUpdated March 15, 2024\nPublished March 14, 2024\n"
            "LONDON (Reuters) - The harbour reopened.\n(c) 2024, Coastal Ledger")
    assert parse_byline(text) == {"author": ("Elena Marquez", "byline"), "publisher": ("Reuters", "dateline"),
                                  "published": ("March 14, 2024", "date line")}
    assert parse_byline("Harbour Reopens\nUpdated 2024-03-15\nBody.\n(c) 2017, Coastal Ledger")["published"] == (
        "2024-03-15", "date line")  # a full date in the lead beats a copyright year


def test_a_date_deep_in_the_body_is_not_the_published_date():
    body = "\n\n".join(f"Paragraph {i} of the story." for i in range(1, 6))
    assert parse_byline(f"Harbour Reopens\n\n{body}\n\nMarch 14, 2024\n\nBy Elena Marquez") == {}


def test_lead_title_is_cut_at_a_word_boundary_and_keeps_a_name_whole():
    sentence = ("US Secretary of State Michael Pompeo warned against easing up on sanctions until North Korea "
                "gives up its nuclear weapons, drawing a rebuke.")
    assert lead_title(sentence) == ("US Secretary of State Michael Pompeo warned against easing up on sanctions "
                                    "until North Korea…")
    for limit in range(10, 90):
        title = lead_title(sentence, limit)
        assert title.endswith("…") and sentence.startswith(title[:-1]) and sentence[len(title) - 1] == " ", title
    assert lead_title("ก" * 200) == "ก" * 90 + "…"  # no spaces to cut at


def test_a_story_that_opens_with_a_byline_is_titled_by_its_lead_sentence():
    (story,) = split_stories("By Elena Marquez, Coastal Ledger / March 14, 2024\n\nThe harbour reopened on Monday.")
    assert (story.title, story.titled) == ("The harbour reopened on Monday", False)
    (story,) = split_stories("March 14, 2024\nHarbour Reopens After Storm\n\nThe harbour reopened on Monday.")
    assert (story.title, story.titled) == ("Harbour Reopens After Storm", True)


def test_story_split_needs_a_headline_followed_by_a_publisher_line():
    text = "First Story Headline Here\nReuters\nBody one.\nSecond Story Headline\nReuters\nBody two."
    stories = split_stories(text)
    assert [s.title for s in stories] == ["First Story Headline Here", "Second Story Headline"]
    assert [s.publisher for s in stories] == ["Reuters", "Reuters"]
    assert split_stories("Just one story.\nWith two lines.")[0].text == "Just one story.\nWith two lines."


# -- decoding --------------------------------------------------------------------------------
SAMPLE = "The café’s owner said “we are naïve” — and the résumé was on the table in Zürich.\n"


@pytest.mark.parametrize(
    "data",
    [
        SAMPLE.encode("utf-8"),
        codecs.BOM_UTF8 + SAMPLE.encode("utf-8"),
        codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"),
        SAMPLE.encode("utf-16-le"),
        SAMPLE.encode("utf-16-be"),
        (SAMPLE * 3).encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-no-bom", "utf16be-no-bom", "cp1252"],
)
def test_common_encodings_decode_to_the_same_text(data):
    assert decode_bytes(data).rstrip("\n").split("\n")[0] == SAMPLE.rstrip("\n")


def test_short_cp1252_text_is_not_mistaken_for_another_code_page():
    text = "Café naïve résumé “quoted” text, more and more words so the detector has enough to go on."
    assert decode_bytes(text.encode("cp1252")) == text


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 8, bytes(range(0x80, 0x100)) * 4, bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15]) * 100],
    ids=["with-nul", "high-bytes", "control-bytes"],
)
def test_binary_bytes_are_reported_undecodable(data):
    with pytest.raises(UndecodableError):
        decode_bytes(data)
