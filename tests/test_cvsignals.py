"""The abstention signals issue 18's third round compared (bench/cvsignals.py): each reads what
its docstring says, on hand-made candidates."""
import numpy as np
import pytest

from bench import cvsignals


def test_content_terms_leave_out_the_names_and_numbers():
    assert cvsignals.content_terms("Who succeeded Alan Greenspan as chairman in 2006?") == \
        ["succeeded", "chairman"]


def test_new_of_kind_marks_each_candidate_and_none_for_no_kind():
    q = "Who succeeded Alan Greenspan as chairman?"
    assert cvsignals.new_of_kind(q, ["Alan Greenspan retired.", "Ben Bernanke succeeded him."]) == \
        [0.0, 1.0]
    assert cvsignals.new_of_kind("What did Greenspan say?", ["Greenspan spoke."]) is None


def signals(**over):
    texts = ["Greenspan retired as chairman.", "Bernanke was named.", "Markets rose.", "Rain."]
    base = dict(question="Who succeeded Alan Greenspan as chairman?", texts=texts,
                order=[0, 1, 2, 3], first=0, evid={0: 1.2, 1: 1.0, 2: 0.8, 3: 0.6},
                pool_evidence=np.array([1.2, 1.0, 0.8, 0.6]), dense=np.array([0.6, 0.5, 0.3, 0.1]),
                doc_cos=np.array([0.4, 0.4, 0.2, 0.1]), neighbour=np.array([0.5, 0.6, 0.2, 0.1]),
                article_terms=lambda row: {"greenspan", "chairman", "retired"},
                head_probs=np.array([0.2, 0.9, 0.5, 0.5]), head=[0, 1, 2, 3])
    base.update(over)
    return cvsignals.signals(**base)


def test_signals_read_the_questions_own_candidates():
    s = signals()
    assert s["nk_asked"] == 1.0 and s["nk_miss3"] == 0.0  # Bernanke, second
    assert s["w_sent_share"] == 0.5  # chairman held, succeeded not
    assert s["w_art_miss"] == 1.0 and s["all_art_miss"] == 2.0  # succeeded; + alan
    assert s["ev_med20"] == pytest.approx(1.2 - 0.9)
    assert s["sent_vs_doc"] == pytest.approx(0.2) and s["sent_vs_nb"] == pytest.approx(0.1)
    assert s["ce_first_rank"] == 3.0  # the cross-encoder prefers the three others to it
    assert s["ce_first_rel"] < 0 < s["ce_gap12"]


def test_signals_without_the_cross_encoder_or_a_kind_stay_finite():
    s = signals(question="What did Greenspan say about rates?", head_probs=None, head=[])
    assert s["nk_asked"] == 0.0 and s["nk_miss3"] == 0.0 and "ce_first_rel" not in s
    assert all(np.isfinite(v) for v in s.values())
