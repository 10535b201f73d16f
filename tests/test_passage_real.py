"""The asked person's passage with the real model (slow: loads all-MiniLM-L6-v2): over one BBC
article, what a named person said includes the sentence that reports it without a speech verb."""
import pytest

from conftest import bbc_documents

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wef_index():
    from qa.index import Index

    return Index.build(bbc_documents(ids={"bbc-business-482"}))  # the WEF's HIV/Aids report


def test_a_persons_words_reported_without_a_speech_verb_rank_with_their_statements(wef_index):
    hits = wef_index.search("What did Kate Taylor of the World Economic Forum say about how "
                            "companies are responding to HIV/Aids?", k=5)
    texts = [h.text for h in hits]
    assert any(t.startswith('"Too few companies are responding proactively') for t in texts)
    # "Dr Taylor described ... as ...": a report verb the attribution pass reads since session
    # 16 with a named subject before it (it was the passage's `mention` that found it before)
    described = [h for h in hits if h.text.startswith("Dr Taylor described the level of action")]
    assert described and described[0].speaker == "Kate Taylor"
