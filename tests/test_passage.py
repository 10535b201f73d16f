"""The asked person's passage (qa/ranking/passage.py): sentences that name the person a "what did
X say" question asks about, or continue X's quotation, without a speech verb the attribution pass
reads."""
import numpy as np
import pytest

from qa import tuning
from qa.ranking import fuse
from qa.ranking.features import features
from qa.ranking.kinds import kind
from qa.types import Document

GREF = Document(id="gref", title="Gref on Yukos", text=(
    "Russia's economy minister German Gref has criticised the sale of Yukos.\n"
    "Mr Gref also poured cold water on promises of doubled growth.\n"
    '"Russia needs better institutions."\n'
    '"Targets are not enough."\n'
    "Oil prices rose on Monday.\n"
    '"It was a good day for traders," said broker Anna Smith.\n'
    '"We expect more."'))
OTHER = Document(id="other", title="Markets", text=(
    "Shares in Moscow fell.\n"
    "Mr Gref was not in Moscow.\n"
    '"Trading was thin."'))


def passage_of(index, encoder, question):
    source = index.row_source()
    query = encoder.encode([question])[0]
    picked = source.pick(query, None)
    feats = features(question, query, kind(question), source, picked)
    rows = np.arange(len(picked)) if picked.rows is None else picked.rows
    texts = [source.rowmap.text(int(r)) for r in rows]
    return {t: (float(m), float(c), float(s)) for t, m, c, s in
            zip(texts, feats["mention"], feats["chain"], feats["speaker"])}


@pytest.mark.parametrize("rank_all_max", [None, 3])  # every row in memory, or the graph's
def test_the_passage_finds_the_persons_unattributed_sentences(fake_encoder, rank_all_max):
    from qa.index import Index
    from qa.state import Sizes

    sizes = Sizes() if rank_all_max is None else Sizes(rank_all_max=rank_all_max)
    index = Index.build([GREF, OTHER], encoder=fake_encoder, sizes=sizes)
    got = passage_of(index, fake_encoder, "What did German Gref say about Yukos?")
    # names him without a speech verb: a mention, not a statement
    assert got["Mr Gref also poured cold water on promises of doubled growth."][:2] == (1.0, 0.0)
    # the quotations after it, which no speech verb attributes, continue him
    assert got['"Russia needs better institutions."'] == (0.0, 1.0, 0.0)
    assert got['"Targets are not enough."'] == (0.0, 1.0, 0.0)
    # a sentence that neither names him nor is quoted ends the passage ...
    assert got["Oil prices rose on Monday."][:2] == (0.0, 0.0)
    # ... so another person's quotation after it is not his
    assert got['"It was a good day for traders," said broker Anna Smith.'][:2] == (0.0, 0.0)
    assert got['"We expect more."'][:2] == (0.0, 0.0)
    # another article naming him counts too, its quotation after the mention as well
    assert got["Mr Gref was not in Moscow."][:2] == (1.0, 0.0)
    assert got['"Trading was thin."'][:2] == (0.0, 1.0)


def test_a_question_that_names_nobody_has_no_passage(fake_encoder):
    from qa.index import Index

    index = Index.build([GREF, OTHER], encoder=fake_encoder)
    got = passage_of(index, fake_encoder, "Why did oil prices rise?")
    assert all(m == 0.0 and c == 0.0 for m, c, _ in got.values())


def test_the_passage_weighs_but_leaves_other_questions_scores_as_they_were():
    assert tuning.WEIGHTS["mention"] > 0 and tuning.WEIGHTS["chain"] > 0
    without = {f: w for f, w in tuning.WEIGHTS.items() if f not in ("mention", "chain")}
    assert fuse.score_scale() == fuse.score_scale(without)


def test_the_persons_continued_quotation_ranks_with_his_statements(fake_encoder):
    from qa.index import Index

    index = Index.build([GREF, OTHER], encoder=fake_encoder)
    top = [h.text for h in index.search("What did German Gref say about Yukos?", k=3)]
    assert {'"Russia needs better institutions."', '"Targets are not enough."'} <= set(top)
