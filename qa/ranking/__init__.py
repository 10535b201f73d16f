"""Answering a question from an index's rows, step by step (question.py runs them in order):

    sources.py       which rows a question ranks: every row in memory, or graph candidates
    features.py      one function computing every feature of those rows (corpusdata.py: what
                     it needs about the whole corpus; lexical.py: BM25)
    fuse.py          weighted features -> scores, the speaker's focus, the best distinct rows
    kinds.py         the kind of answer asked for (a date, a count, money, a cause) and the check
    crossencoder.py  the cross-encoder's re-ordering of the best candidates
    decide.py        whether anything answers at all

Nothing here loads a model at import or writes to disk; the weights and limits are qa/tuning.py.
"""
