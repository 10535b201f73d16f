"""The abstention model (qa.tuning.ANSWER_MODEL) fit by cross-validation, folds by article, over
every dev set at once, beside the fixed evidence threshold it replaces: run by
``python -m bench.cv --fit`` (bench/cv.py), on the signals qa.ranking.decide.signals computes.

The model: logistic regression on standardised signals, each dev set weighing the same and, in
it, answerable and `none` questions the same; then the log-odds cut where the dev sets' mean of
(answered + abstained) is highest with a penalty for answering fewer than 90% of answerable
questions (the target). Written back as plain numbers on the raw signals. Beside the value, the
out-of-fold log-odds' AUC per dev set (answerable above `none`, whatever the cut).

``penalty``: the shipped evidence rule with one more signal, whose weight alone is chosen by
cross-validation (how qa.tuning.ANSWER_MODEL's ``unseen`` weight was chosen: the evidence cut
stays at 1.0, where the shipped article's answers need it); the third round's signals
(``THIRD``, bench/cvsignals.py) go the same way on top of the whole shipped rule. ``at90``: per
set, `none` abstained at that set's own cut answering 0.90 (cut-free beside the value, whose
0.90 shortfall penalty makes one question on either side of 0.90 worth 0.12). ``trees``: shallow
boosted trees over every signal, to see whether any combination carries.
"""
from __future__ import annotations

import numpy as np

SETS = ("wikiqa-dev", "bbc-dev", "bbc-dev2", "small", "wikiqa-dev-1", "bbc-1")
TARGET = 0.90  # share of answerable questions answered that the cut aims not to go below
PENALTY = 4.0
C = 1.0  # inverse L2 strength (standardised signals)
SUBSETS = {
    "evidence alone (as shipped, cut by CV)": ["evidence"],
    "evidence + corpus size": ["evidence", "log_rows"],
    "best evidence of the top 3": ["evidence3"],
    "best evidence of the top 5": ["evidence5"],
    "best evidence of the top 10": ["evidence10"],
    "evidence + best of the top 5": ["evidence", "evidence5"],
    "evidence + score": ["evidence", "score"],
    "evidence + score + coverage": ["evidence", "score", "coverage"],
    "evidence + score + margin + coverage": ["evidence", "score", "margin", "coverage"],
    "evidence + score + coverage + z-score + corpus size": ["evidence", "score", "coverage",
                                                           "zscore", "log_rows"],
    "evidence + said + article": ["evidence", "said", "article"],
    "evidence + question terms": ["evidence", "terms"],
    "evidence + sentence length": ["evidence", "length"],
    "evidence + sentence length + question terms": ["evidence", "length", "terms"],
    "evidence's parts": ["f_dense", "f_bm25", "said", "f_topic", "f_kind"],
    "evidence's parts + score": ["f_dense", "f_bm25", "said", "f_topic", "f_kind", "score"],
    "evidence's parts + corpus size": ["f_dense", "f_bm25", "said", "f_topic", "f_kind",
                                       "log_rows"],
    "evidence + score + question terms": ["evidence", "score", "terms"],
    "evidence + score + said + article": ["evidence", "score", "said", "article"],
    "all signals": ["evidence", "score", "margin", "zscore", "coverage", "log_rows", "said",
                    "article", "terms", "length", "evidence3", "evidence5", "evidence10", "f_dense", "f_bm25", "f_topic", "f_kind"],
}
# Issue 18, second round (bench.cv.extra_signals): the cross-encoder's view, evidence relative to
# the question's own top candidates, the answer-kind check, statements of the person asked about.
NEW = {
    "cross-encoder alone: ranker's best (logit)": ["ce_first_logit"],
    "cross-encoder alone: its best (logit)": ["ce_max_logit"],
    "evidence + CE ranker's best (logit)": ["evidence", "ce_first_logit"],
    "evidence + CE ranker's best (prob)": ["evidence", "ce_first"],
    "evidence + CE best (logit)": ["evidence", "ce_max_logit"],
    "evidence + CE best + runner-up (logit)": ["evidence", "ce_max_logit", "ce_second_logit"],
    "evidence + CE top after kind (logit)": ["evidence", "ce_top1_logit"],
    "evidence + CE agreement": ["evidence", "ce_agree"],
    "evidence + CE ranker's best + agreement": ["evidence", "ce_first_logit", "ce_agree"],
    "evidence + CE mean of head": ["evidence", "ce_mean"],
    "evidence + z within top 10": ["evidence", "ev_z"],
    "evidence + gap to 10th": ["evidence", "gap"],
    "evidence + gap to runner-up": ["evidence", "ev_gap2"],
    "evidence + kind asked/found/missing": ["evidence", "kind_asked", "kind_found", "kind_missing"],
    "evidence + statement question / X unsaid": ["evidence", "stmt", "stmt_unsaid"],
    "evidence + CE best + gap to 10th": ["evidence", "ce_first_logit", "gap"],
    "evidence + CE + kind": ["evidence", "ce_first_logit", "kind_found", "kind_missing"],
    "evidence + CE + statements": ["evidence", "ce_first_logit", "stmt", "stmt_unsaid"],
    "evidence + names unseen (count)": ["evidence", "unseen"],
    "evidence + names unseen (any)": ["evidence", "unseen_any"],
    "evidence + names unseen (share)": ["evidence", "unseen_share"],
    "evidence + names unseen + gap to 10th": ["evidence", "unseen", "gap"],
    "evidence + unseen names only (count)": ["evidence", "unseen_names"],
    "evidence + unseen names only (any)": ["evidence", "unseen_names_any"],
    "evidence + unseen, years aside (count)": ["evidence", "unseen_noyear"],
    "evidence + unseen, years aside (any)": ["evidence", "unseen_noyear_any"],
    "every new signal": ["unseen", "evidence", "ce_first_logit", "ce_max_logit", "ce_second_logit",
                         "ce_agree", "ev_z", "gap", "ev_gap2", "kind_asked", "kind_found",
                         "kind_missing", "stmt", "stmt_unsaid"],
}

# Issue 18, third round (bench/cvsignals.py): on top of the shipped pair (evidence, unseen), the
# answer kind the question asks held by the best candidates, the question's content words beyond
# its names in the best sentence and its article, the best evidence relative to the question's
# own candidates', and the cross-encoder's probability relative to the re-ranked head's.
THIRD = {
    "evidence + unseen (the shipped pair, refit)": ["evidence", "unseen"],
    "+ new item of the kind asked: missing in the best (asked_absent)": ["evidence", "unseen",
                                                                          "asked_absent"],
    "+ new item of the kind asked: missing in the best 3": ["evidence", "unseen", "nk_miss3"],
    "+ a kind asked at all": ["evidence", "unseen", "nk_asked"],
    "+ content words: share in the best sentence": ["evidence", "unseen", "w_sent_share"],
    "+ content words: share in the best 3": ["evidence", "unseen", "w_top3_share"],
    "+ content words: share in its article": ["evidence", "unseen", "w_art_share"],
    "+ content words its article lacks (count)": ["evidence", "unseen", "w_art_miss"],
    "+ every question word its article lacks (count)": ["evidence", "unseen", "all_art_miss"],
    "+ every question word: share in the best sentence": ["evidence", "unseen", "all_sent_share"],
    "+ evidence z within the best 20": ["evidence", "unseen", "ev_z20"],
    "+ evidence z within the best 50": ["evidence", "unseen", "ev_z50"],
    "+ evidence z within the best 150": ["evidence", "unseen", "ev_z150"],
    "+ evidence less the median of the best 20": ["evidence", "unseen", "ev_med20"],
    "+ cosine less its article's centroid": ["evidence", "unseen", "sent_vs_doc"],
    "+ cosine less its neighbours'": ["evidence", "unseen", "sent_vs_nb"],
    "+ CE: ranker's best less the head's mean (logit)": ["evidence", "unseen", "ce_first_rel"],
    "+ CE: rank of the ranker's best in the head": ["evidence", "unseen", "ce_first_rank"],
    "+ CE: best logit's z-score in the head": ["evidence", "unseen", "ce_zmax"],
    "+ CE: best less runner-up (logit)": ["evidence", "unseen", "ce_gap12"],
    "+ CE: best less the head's median (prob)": ["evidence", "unseen", "ce_rel"],
    "+ CE relative + content share + kind": ["evidence", "unseen", "ce_first_rel",
                                             "w_sent_share", "asked_absent"],
}
# Signals whose weight alone is chosen by CV on top of the shipped rule (``penalty``).
PENALTY_SIGNALS = ("unseen", "unseen_any", "unseen_noyear", "asked_absent", "unseen_share",
                   "w_sent_share", "all_art_miss", "ev_med20", "sent_vs_nb", "ce_first_rel",
                   "ce_agree", "margin")


def at90(sets: np.ndarray, y: np.ndarray, odds: np.ndarray) -> list[float]:
    """Per dev set, the `none` questions abstained at the set's own cut answering 0.90 of its
    answerable ones: the ordering's worth at the target, free of where one cut for all falls."""
    out = []
    for s in SETS:
        m = sets == s
        if not (m & y).any() or not (m & ~y).any():
            continue
        out.append(float((odds[m & ~y] < np.quantile(odds[m & y], 1 - TARGET)).mean()))
    return out


def value(sets: np.ndarray, y: np.ndarray, answered: np.ndarray, mask: np.ndarray) -> float:
    per = []
    for s in SETS:
        m = mask & (sets == s)
        if not m.any():
            continue
        ans = answered[m & y].mean() if (m & y).any() else 1.0
        abst = (~answered[m & ~y]).mean() if (m & ~y).any() else 1.0
        per.append(ans + abst - PENALTY * max(0.0, TARGET - ans))
    return float(np.mean(per))


def weights(sets: np.ndarray, y: np.ndarray) -> np.ndarray:
    w = np.zeros(len(y))
    for s in SETS:
        for c in (True, False):
            m = (sets == s) & (y == c)
            if m.any():
                w[m] = 1.0 / m.sum()
    return w


def fit(X: np.ndarray, y: np.ndarray, sets: np.ndarray, train: np.ndarray):
    """(coefficients on raw X, intercept) with the cut folded in, fit on ``train`` rows."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = X[train].mean(0), X[train].std(0) + 1e-9
    Z = (X - mu) / sd
    lr = LogisticRegression(C=C, max_iter=1000)
    lr.fit(Z[train], y[train], sample_weight=weights(sets[train], y[train]))
    z = lr.decision_function(Z)
    cuts = np.unique(np.round(z[train], 3))
    values = np.array([value(sets, y, z >= t, train) for t in cuts])
    best = cuts[np.flatnonzero(values >= values.max() - 1e-9)[0]]  # ties: the lowest cut answers most
    coef = lr.coef_[0] / sd
    return coef, float(lr.intercept_[0] - best - (lr.coef_[0] * mu / sd).sum())


def shares(sets, y, answered, mask=None) -> str:
    mask = np.ones(len(y), bool) if mask is None else mask
    out = []
    for s in SETS:
        m = mask & (sets == s)
        if not m.any():
            continue
        out.append(f"{s} {answered[m & y].mean():.2f}/{(~answered[m & ~y]).mean():.2f}")
    return ", ".join(out)


def aucs(sets, y, odds) -> str:
    """Out of fold, how well the log-odds order answerable above `none` questions, whatever the
    cut: the area under the ROC curve per dev set, and their mean."""
    from sklearn.metrics import roc_auc_score

    per = [roc_auc_score(y[sets == s], odds[sets == s]) for s in SETS if (sets == s).any()]
    return "AUC " + " ".join(f"{a:.3f}" for a in per) + f" mean {np.mean(per):.3f}"


def report(rows: list[dict], fold: np.ndarray, results, only=None) -> None:
    """Answered (of answerable) / abstained (of `none`) per dev set: the shipped rule, then each
    signal set in-fold (fit on all) and out-of-fold; the coefficients fit on all questions."""
    sets = np.array([r["set"] for r in rows])
    y = np.array([r["type"] != "none" for r in rows])
    subsets = {**SUBSETS, **NEW, **THIRD} if "ce_first" in results[0][1] else SUBSETS
    if only:
        subsets = {k: v for k, v in subsets.items() if only in k or v == ["evidence"]}
    names = sorted({c for cols in subsets.values() for c in cols})
    X_all = np.array([[sig[n] for n in names] for _, sig in results])
    from qa.ranking.decide import logit
    from qa.tuning import ANSWER_MODEL

    shipped = np.array([logit(sig) >= 0 for _, sig in results])
    print("\nanswered of answerable / abstained of none, per dev set")
    print(f"| rule | in-fold (fit on all) | out-of-fold |\n|---|---|---|")
    print(f"| shipped (qa.tuning.ANSWER_MODEL) | {shares(sets, y, shipped)} "
          f"(value {value(sets, y, shipped, sets != ''):.3f}) | - |")
    before = np.array([logit(sig, {**ANSWER_MODEL, "asked_absent": -0.75}) >= 0 for _, sig in results])
    print(f"| shipped with asked_absent -0.75 (main until its retirement in session 19) | "
          f"{shares(sets, y, before)} (value {value(sets, y, before, sets != ''):.3f}) | - |")
    old = np.array([sig["evidence"] >= 1.0 for _, sig in results])
    print(f"| evidence >= 1.0 (the cut before issue 18) | {shares(sets, y, old)} "
          f"(value {value(sets, y, old, sets != ''):.3f}) | (fixed: same) |")
    for label, cols in subsets.items():
        X = X_all[:, [names.index(c) for c in cols]]
        coef, b = fit(X, y, sets, np.ones(len(y), bool))
        inf = X @ coef + b >= 0
        odds = np.zeros(len(y))
        for f in range(fold.max() + 1):
            c_f, b_f = fit(X, y, sets, fold != f)
            odds[fold == f] = X[fold == f] @ c_f + b_f
        oof = odds >= 0
        a90 = at90(sets, y, odds)
        print(f"| {label} | {shares(sets, y, inf)} (value {value(sets, y, inf, sets != ''):.3f}) "
              f"| {shares(sets, y, oof)} (value {value(sets, y, oof, sets != ''):.3f}) "
              f"| {aucs(sets, y, odds)} | abstained at 0.90 " + " ".join(f"{a:.2f}" for a in a90)
              + f" mean {np.mean(a90):.3f} |")
        print(f"    fit on all: bias {b:.4f}, " + ", ".join(f"{n} {c:.4f}" for n, c in zip(cols, coef)))


GRID = (0.0, -0.25, -0.5, -0.75, -1.0, -1.5, -2.0, -3.0, -5.0)
# for signals that may raise the odds too (the third round's): both signs
SIGNED = tuple(sorted(set(GRID) | {0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, -0.1}))


def penalty(rows: list[dict], fold: np.ndarray, results, signal: str = "unseen",
            grid: tuple = GRID) -> None:
    """The shipped evidence rule (qa.tuning.ANSWER_MODEL's bias and evidence weight) with one more
    signal whose weight alone is chosen, from ``GRID``, by cross-validation (the value above):
    the evidence cut stays where the shipped article needs it, and only the questions the signal
    flags are moved. In-fold (chosen on all) and out-of-fold, with the folds' picks."""
    from qa.tuning import ANSWER_MODEL

    sets = np.array([r["set"] for r in rows])
    y = np.array([r["type"] != "none" for r in rows])
    # the unseen variants go on the evidence rule alone (how unseen was chosen); the others on
    # the whole shipped rule less their own weight (asked_absent: on the rule before it)
    from qa.ranking.decide import logit

    rest = {**ANSWER_MODEL, signal: 0.0}  # the shipped rule, less this signal's own weight
    base = np.array([ANSWER_MODEL["bias"] + ANSWER_MODEL["evidence"] * sig["evidence"]
                     if signal.startswith("unseen") else logit(sig, rest) for _, sig in results])
    x = np.array([sig[signal] for _, sig in results])
    every = np.ones(len(y), bool)
    val = {w: value(sets, y, base + w * x >= 0, every) for w in grid}
    best = max(grid, key=lambda w: (round(val[w], 9), -abs(w)))
    oof, odds, picks = np.zeros(len(y), bool), np.zeros(len(y)), []
    for f in range(fold.max() + 1):
        train = fold != f
        w = max(grid, key=lambda w: (round(value(sets, y, base + w * x >= 0, train), 9), -abs(w)))
        picks.append(w)
        odds[fold == f] = (base + w * x)[fold == f]
        oof[fold == f] = (base + w * x >= 0)[fold == f]
    rule = "shipped evidence rule" if signal.startswith("unseen") else "shipped rule (with unseen)"
    print(f"\n{rule} + {signal} x w (w by CV from {grid}):")
    for w in grid:
        print(f"  w {w:g}: {shares(sets, y, base + w * x >= 0)} (value {val[w]:.3f})")
    print(f"  in-fold: w {best:g} (value {val[best]:.3f}); out-of-fold: {shares(sets, y, oof)} "
          f"(value {value(sets, y, oof, every):.3f}), fold picks {picks}; "
          f"{aucs(sets, y, odds)}, abstained at 0.90 mean {np.mean(at90(sets, y, odds)):.3f}")



TREE_SIGNALS = ("evidence", "unseen", "score", "coverage", "margin", "gap", "log_rows", "terms",
                "ce_first_rel", "ce_first_rank", "ce_agree", "ev_med20", "ev_z150", "all_sent_share",
                "w_top3_share", "all_art_miss", "asked_absent", "nk_asked", "sent_vs_doc", "sent_vs_nb")


def trees(rows: list[dict], fold: np.ndarray, results) -> None:
    """Whether any combination of the signals carries, not only a weighted sum: shallow gradient
    boosted trees over ``TREE_SIGNALS``, weighted and cut as the logistic model (``fit``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    sets = np.array([r["set"] for r in rows])
    y = np.array([r["type"] != "none" for r in rows])
    X = np.array([[sig[n] for n in TREE_SIGNALS] for _, sig in results])

    def odds_of(train):
        m = HistGradientBoostingClassifier(max_depth=2, max_iter=60, learning_rate=0.05,
                                           min_samples_leaf=20, random_state=18)
        m.fit(X[train], y[train], sample_weight=weights(sets[train], y[train]))
        z = m.decision_function(X)
        cuts = np.unique(np.round(z[train], 3))
        vals = np.array([value(sets, y, z >= t, train) for t in cuts])
        return z - cuts[int(np.argmax(vals))]

    every = np.ones(len(y), bool)
    inf = odds_of(every) >= 0
    odds = np.zeros(len(y))
    for f in range(fold.max() + 1):
        odds[fold == f] = odds_of(fold != f)[fold == f]
    print(f"\n| trees over {len(TREE_SIGNALS)} signals | {shares(sets, y, inf)} (value "
          f"{value(sets, y, inf, every):.3f}) | {shares(sets, y, odds >= 0)} (value "
          f"{value(sets, y, odds >= 0, every):.3f}) | {aucs(sets, y, odds)} | abstained at 0.90 "
          f"mean {np.mean(at90(sets, y, odds)):.3f} |")


def stacked(rows: list[dict], fold: np.ndarray, results,
            signals_: tuple = ("unseen", "margin")) -> None:
    """The shipped rule out of fold as a whole: for each fold, the weight of each of
    ``signals_`` chosen in turn on the other folds (the first from ``GRID`` on the evidence rule,
    each next from ``SIGNED`` on top of those chosen), the held-out fold decided so."""
    from qa.tuning import ANSWER_MODEL

    sets = np.array([r["set"] for r in rows])
    y = np.array([r["type"] != "none" for r in rows])
    base = np.array([ANSWER_MODEL["bias"] + ANSWER_MODEL["evidence"] * sig["evidence"]
                     for _, sig in results])
    xs = [np.array([sig[s] for _, sig in results]) for s in signals_]
    odds, picks = np.zeros(len(y)), []
    for f in range(fold.max() + 1):
        train, z, chosen = fold != f, base.copy(), []
        for i, x in enumerate(xs):
            grid = GRID if i == 0 else SIGNED
            w = max(grid, key=lambda w: (round(value(sets, y, z + w * x >= 0, train), 9), -abs(w)))
            chosen.append(w)
            z = z + w * x
        picks.append(tuple(chosen))
        odds[fold == f] = z[fold == f]
    every = np.ones(len(y), bool)
    print(f"\nthe shipped rule out of fold, {' then '.join(signals_)} chosen per fold: "
          f"{shares(sets, y, odds >= 0)} (value {value(sets, y, odds >= 0, every):.3f}), "
          f"fold picks {picks}; {aucs(sets, y, odds)}, abstained at 0.90 mean "
          f"{np.mean(at90(sets, y, odds)):.3f}")
