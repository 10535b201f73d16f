"""The answer/abstain rule with the real model at both ends of corpus size: a question the one
shipped article answers is answered, and off-topic questions over BBC articles are not (slow:
loads all-MiniLM-L6-v2 and embeds 150 BBC articles, about 3,000 sentences)."""
import pytest

from conftest import SEED, bbc_documents

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bbc_index():
    from qa.index import Index

    return Index.build(bbc_documents(first=150))


@pytest.fixture(scope="module")
def seed_index():
    from qa.index import Index
    from qa.ingest.readers import read_file

    return Index.build(read_file(SEED))


def test_the_shipped_article_answers_what_did_kishida_say(seed_index):
    answer = seed_index.ask("What did Kishida say?")
    assert answer.answered and answer.hits
    assert all(h.speaker == "Fumio Kishida" for h in answer.hits)


def test_the_shipped_article_answers_who_its_ambassador_is_and_abstains_off_topic(seed_index):
    assert seed_index.ask("Who is the Russian ambassador to Japan?").answered
    assert not seed_index.ask("What is the capital of Peru?").answered


@pytest.mark.parametrize("question", ["How do I bake sourdough bread at home?",
                                      "Which planet has the most moons?"])
def test_an_off_topic_question_over_bbc_abstains(bbc_index, question):
    assert not bbc_index.ask(question).answered


def test_a_question_the_bbc_articles_answer_is_answered(bbc_index):
    answer = bbc_index.ask("How much did retail sales in the US fall in January?")
    assert answer.answered
    assert any("0.3%" in h.text for h in answer.hits)


@pytest.mark.parametrize("question", ["How much did retail sales in Canada fall in January?",
                                      "How much did retail sales in the US fall in 1987?"])
def test_a_near_miss_naming_what_the_article_never_mentions_abstains(bbc_index, question):
    # the same article comes first (evidence 1.12-1.15, above the cut of 1.0), but it never
    # mentions Canada or 1987: decide.unseen asks for more evidence than that
    answer = bbc_index.ask(question)
    assert "US retail sales fell 0.3% in January" in answer.hits[0].text
    assert not answer.answered


def test_a_short_unrelated_article_beside_the_shipped_one_changes_no_answer(seed_index):
    """Found by a user acceptance sweep: one four-sentence note ingested beside the shipped
    article turned its README questions into "not covered" (BM25 read each article against
    the index's average length, which the note halved; tuning.ARTICLE_LENGTH)."""
    from qa.index import Index
    from qa.ingest.readers import read_file
    from qa.types import Document

    note = Document(id="tunnel", title="Harbour tunnel opens after five years", text=(
        "The new harbour tunnel in Port Vale opened to traffic on Monday. The 3.2-kilometre "
        "tunnel cost 1.4 billion euros. \"The tunnel will cut commuting times in half,\" the "
        "transport minister said. Critics said the money should have gone to public transport."))
    both = Index.build(read_file(SEED) + [note], encoder=seed_index.encoder)
    for question in ("Who is the Kremlin spokesman?", "When did Kishida and Biden talk?",
                     "Who is the Russian ambassador to Japan?", "What is the capital of Peru?"):
        assert both.ask(question).answered == seed_index.ask(question).answered, question
    assert both.ask("Who is the Kremlin spokesman?").answered


def test_a_time_phrase_that_chose_the_articles_does_not_count_against_them(seed_index):
    """"What did the union threaten in January 2022?" over dated articles: the phrase picks
    January's, and the question is then ranked without it - January's article never names
    "January 2022", and the abstention rule counted those names against it (a user sweep)."""
    from qa.index import Index
    from qa.types import Document

    docs = [Document(id="jan", title="Portmere union threatens strike over night pay",
                     published="2022-01-10", source="Reuters", text=(
                         "The dockworkers' union at Portmere harbour threatened on Monday to strike "
                         "unless night-shift pay is raised by 10%. Union leader Maria Kessler said "
                         "members would vote on industrial action within a month.")),
            Document(id="mar", title="Portmere strike ends", published="2022-03-07",
                     source="Reuters", text=(
                         "The three-week strike at Portmere harbour ended on Monday after the union "
                         "accepted a 7% night-shift bonus."))]
    index = Index.build(docs, encoder=seed_index.encoder)
    plain = index.ask("What did the union threaten?")
    limited = index.ask("What did the union threaten in January 2022?")
    assert plain.answered and limited.answered
    assert limited.taken_as.endswith("published 1–31 January 2022")
    assert {h.doc_id for h in limited.hits} == {"jan"}
    assert limited.question == "What did the union threaten in January 2022?"
