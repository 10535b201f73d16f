"""The ranking core: plain functions over arrays, lexical scores, and the fused ranker."""
import numpy as np
import pytest

from qa import tuning
from qa.ranking import fuse as rank
from qa.ranking.lexical import BM25, terms


def test_fuse_weights_features():
    feats = {"dense": np.array([0.5, 0.2], np.float32), "lex": np.array([0.0, 1.0], np.float32)}
    assert np.allclose(rank.fuse(feats, {"dense": 1.0, "lex": 0.5}), [0.5, 0.7])
    assert np.allclose(rank.fuse(feats, {"dense": 1.0, "missing": 3.0}), [0.5, 0.2])


def test_neighbour_max_stays_inside_an_article():
    scores = np.array([0.1, 0.9, 0.3, 0.8], np.float32)
    row_doc = np.array([0, 0, 0, 1])
    assert np.allclose(rank.neighbour_max(scores, row_doc), [0.9, 0.3, 0.9, 0.0])


def test_distinct_drops_repeated_wire_copy():
    texts = ["Shares rose 3%.", "shares  rose 3 %", "Profits fell."]
    assert rank.distinct(np.array([0, 1, 2]), texts, 2) == [0, 2]


def test_top_k_orders_best_first():
    assert rank.top_k(np.array([0.1, 0.5, 0.3]), 2).tolist() == [1, 2]


def test_terms_drop_stopwords_and_plurals():
    assert terms("What did the Ministers say about Japan's rockets?") == ["minister", "japan", "rocket"]


def test_bm25_is_normalised_and_prefers_rare_words():
    texts = [terms(t) for t in ["Galuzin spoke in Tokyo", "Tokyo weather", "Tokyo markets rose"]]
    bm = BM25(texts)
    s = bm.scores(terms("Galuzin Tokyo"))
    assert s.argmax() == 0 and 0 < s[0] <= 1 and s[1] < s[0]
    assert not bm.scores(terms("nothing matches")).any()


def test_a_typical_length_keeps_an_articles_weights_when_a_short_one_joins():
    long = ["galuzin"] + [f"word{i}" for i in range(119)]  # 120 terms, the name once
    note = terms("Harbour tunnel opened")
    alone, beside = BM25([long]), BM25([long, note])
    # the corpus's own average: a short note beside it halves it and cuts the article's weights
    assert beside.matrix[beside.vocab["galuzin"], 0] < 0.9 * alone.matrix[alone.vocab["galuzin"], 0]
    typical = (120.0, 30.0)
    alone, beside = BM25([long], typical=typical), BM25([long, note], typical=typical)
    assert beside.matrix[beside.vocab["galuzin"], 0] == \
        pytest.approx(alone.matrix[alone.vocab["galuzin"], 0], rel=0.03)
    # many articles outweigh the typical ones: the collection's own average again
    many = [long] * 3000 + [note] * 3000
    assert BM25(many, typical=typical).matrix[0, 0] == pytest.approx(BM25(many).matrix[0, 0],
                                                                     rel=0.01)


def test_ranker_puts_the_asked_speakers_statements_first(fake_encoder):
    from qa.index import Index
    from qa.types import Document

    text = ("Russian envoy Mikhail Galuzin said relations were strained.\n"
            '"We want dialogue," he noted.\n'
            "Kremlin spokesman Dmitry Peskov said the claims were empty.\n"
            "The weather in Tokyo was cold.")
    index = Index.build([Document(id="a", title="Envoy speaks", text=text)], encoder=fake_encoder)
    hits = index.search("What did Galuzin say?", k=4)
    assert [h.speaker for h in hits[:2]] == ["Mikhail Galuzin", "Mikhail Galuzin"]
    assert all(index.documents[0].text[h.start:h.end] == h.text for h in hits)


def test_focus_speaker_lifts_the_speakers_sentences_in_the_best_article_only():
    scores = np.array([0.9, 0.5, 0.2, 0.8, 0.1], np.float32)
    speaker = np.array([0, 1, 1, 1, 0], np.float32)
    row_doc = np.array([0, 0, 0, 1, 1])
    out = rank.focus_speaker(scores, speaker, row_doc, bonus=1.0)
    assert np.allclose(out, [0.9, 0.5, 0.2, 1.8, 0.1])
    assert np.allclose(rank.focus_speaker(scores, np.zeros(5), row_doc), scores)


def test_decide_reads_the_best_hits_evidence_else_its_score():
    from qa.ranking.decide import decide
    from qa.types import Hit

    def hit(score, evidence=None):
        return Hit(text="x", score=score, doc_id="a", title="", sentence=0, start=0, end=1,
                   context="x", context_start=0, evidence=evidence)

    assert decide([hit(0.2, evidence=1.2), hit(0.9, evidence=0.1)], threshold=1.0)
    assert not decide([hit(0.9, evidence=0.5)], threshold=1.0)
    assert decide([hit(1.1)], threshold=1.0) and not decide([], threshold=1.0)


def test_a_speakers_words_on_a_topic_their_article_never_mentions_are_weaker_evidence(fake_encoder):
    from qa.index import Index
    from qa.types import Document

    text = ("Russian envoy Mikhail Galuzin said relations with Tokyo were strained.\n"
            '"We want dialogue on fishing quotas," he noted.')
    index = Index.build([Document(id="a", title="Envoy speaks", text=text)], encoder=fake_encoder)
    from qa.ranking.features import features
    from qa.ranking.kinds import kind

    source = index.row_source()

    def miss(question):
        query = fake_encoder.encode([question])[0]
        return features(question, query, kind(question), source,
                        source.pick(query, None))["topic_miss"]

    assert np.allclose(miss("What did Galuzin say about fishing quotas?"), 0.0)
    assert np.allclose(miss("What did Galuzin say about the Olympic opening ceremony?"), 1.0)
    assert np.allclose(miss("What did Galuzin say about Olympic fishing?"), 0.5, atol=0.01)
    assert np.allclose(miss("What did Galuzin say?"), 0.0)  # no topic asked: nothing missing
    assert np.allclose(miss("Why were relations strained?"), 0.0)  # not a speaker question
    assert tuning.EVIDENCE["topic_miss"] < 0


def test_in_article_is_the_cosine_with_the_sentence_read_in_its_article():
    from qa.ranking.features import in_article

    rng = np.random.default_rng(0)
    q, s, c = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 16)))
    joint = (s + c) / np.linalg.norm(s + c)
    got = in_article(np.array([q @ s]), np.array([q @ c]), np.array([s @ c]))
    assert got[0] == pytest.approx(q @ joint, abs=1e-6)
    # a one-sentence article is its own centroid: read there, the sentence is what it was
    alone = in_article(np.array([q @ s]), np.array([q @ s]), np.array([1.0]))
    assert alone[0] == pytest.approx(q @ s, abs=1e-6)


def test_every_row_source_gives_each_sentence_its_cosine_with_its_articles_centroid(fake_encoder):
    from qa.index import Index
    from qa.state import Sizes
    from qa.types import Document

    docs = [Document(id="a", title="Robot", text="Honda's robot can now run. At 3km/h it is a jog."),
            Document(id="b", title="Rail", text="Rail fares rise in March. Unions object.")]
    for sizes in (None, Sizes(rank_all_max=1)):  # every row in memory, then the graph's
        index = Index.build(docs, encoder=fake_encoder, sizes=sizes)
        source = index.row_source()
        picked = source.pick(fake_encoder.encode(["How fast can the robot run?"])[0], None)
        rows = np.arange(len(picked)) if picked.rows is None else picked.rows
        assert len(rows) == 4
        for i, row in enumerate(rows):
            doc = source.rowmap.doc(row).document.id
            art = np.asarray(index.state.vectors[doc], np.float32)
            centroid = art.sum(0) / np.linalg.norm(art.sum(0))
            mine = art[source.rowmap.row_sent[row]]
            assert picked.typical[i] == pytest.approx(float(mine @ centroid), abs=1e-5)
