"""Every tuned number and size limit of the question path and the index, in one place, each with
what it does and where it was measured. Tuning used the dev sets only (WikiQA-dev, BBC dev and
dev2, small.jsonl); the figures are in BENCHMARKS.md under the section named.

Change one here and re-run ``python -m bench.quality`` (and ``python -m bench.speed`` for limits
that trade speed): nothing else in qa/ holds a copy.
"""
from __future__ import annotations

# ---- sizes: which machinery an index uses ------------------------------------------------
# Up to this many sentences every question is ranked over every sentence, with the vectors in
# memory (qa/ranking/sources.py ``AllRows``), and re-ranked by the cross-encoder. Larger indexes
# keep their vectors on disk, take candidates from an approximate graph (``GraphCandidates``) and
# skip the cross-encoder unless QA_RERANK=1: at a million sentences a question cost 11-17 ms
# without it and 35 ms with it, p99 62 ms, past that scale's budget ("Speed and scale").
RANK_ALL_MAX = 150_000
RERANK_MAX = RANK_ALL_MAX  # one limit: the large-index path is the one without re-ranking

# The vector store's kind (qa/storage/vectors.py): exact inner product up to FLAT_MAX sentences,
# then an HNSW graph over 4-bit codes ("Speed and scale": 4-bit kept recall@10 after re-scoring
# at 100k for 192 bytes a sentence less than 8-bit).
FLAT_MAX = 50_000
HNSW_M = 32  # graph degree: 16 saves 128 bytes a sentence and needs a larger search for recall
EF_CONSTRUCTION = 160  # 1M: built in 670 s, not 450 s as with 80; off-topic recall 0.92 -> 0.99
SQ_TRAIN = 20_000  # sample for the quantizer's per-dimension ranges
EXACT_RESCORE = 40  # graph candidates re-scored with the float vectors, at least; 4 k when larger
EXACT_ROWS = 20_000  # a search restricted to at most this many rows scores them exactly
# Graph search breadth by size: recall@10 >= 0.98 after re-scoring for on-topic questions at
# 100k and 1M sentences ("Speed and scale").
EF_SEARCH_SMALL, EF_SEARCH_LARGE, EF_SEARCH_SPLIT = 512, 1536, 300_000

# A large index ranks the graph's CANDIDATES nearest sentences and every sentence of the best
# ARTICLES of their articles (256 candidates ranked the dev questions the same and took 3 ms more
# at 1M: "Ranking past the full ranker").
CANDIDATES = 128
ARTICLES = 8

# ---- ranking: the features' weights (qa/ranking/features.py) -----------------------------
# A sentence's score is the weighted sum of its features; tuned on WikiQA-dev and BBC dev
# (bench/tune.py, "Quality"). dense: its cosine; doc: its article centroid's cosine; neighbour:
# the better cosine of the sentences beside it; doc_lex / title_lex: BM25 of its article / title
# (capped); speaker: 1 when said by the person a "what did X say" question names; lead:
# 1/(1+position); answer_type: 1 when it holds what the question asks for (a number, a name).
# (BM25 of the sentence itself was tried and weighs 0: it is not computed.) Cross-validated by
# article over every dev set (bench/cv.py, "Quality"): every weight but answer_type carried or
# tied out of fold; answer_type at 0 ranked slightly better (objective 0.777 -> 0.781) but the
# abstention rule then did worse out of fold (1.432 -> 1.391 with its cut refit), so it stays.
# mention / chain: the asked person's passage (qa/ranking/passage.py): a sentence of X's articles
# that names X, or holds quotation marks and follows X's words; chosen by the same CV, the
# cross-encoder's probabilities out of fold too ("The asked person's passage", issue 18).
# in_article: the sentence's cosine read in its article (features.in_article: the question's
# cosine with the sentence's vector plus its article's centroid), in place of its cosine alone
# (dense, which the evidence below still reads): issue 18, session 17, every fold's pick of
# dense 1 - b + in_article b for b in 0..1 was b = 1 (BENCHMARKS.md, "Where issue 18 stands
# after session 17").
WEIGHTS = {"in_article": 1.0, "doc": 0.5, "neighbour": 0.3, "doc_lex": 1.0, "title_lex": 0.2,
           "speaker": 1.0, "lead": 0.1, "answer_type": 0.15, "mention": 0.25, "chain": 0.5}

# The evidence that a sentence answers at all: its cosine, plus how much and how often its
# article holds the question's words (uncapped BM25), plus a little when said by the person
# named, less when a "what did X say about Y" question's Y is missing from its article
# (topic_miss). Chosen on the dev `none` questions ("Abstention").
EVIDENCE = {"dense": 1.0, "doc_bm25": 1.0, "speaker": 0.25, "topic_miss": -0.5}

# BM25 of the articles (qa/ranking/lexical.py) weighs a term less in an article longer than
# the average. That average counts ARTICLE_LENGTH[1] typical news articles of ARTICLE_LENGTH[0]
# terms (BBC's mean, 221.5 terms with the title) beside the index's own articles. Before, an
# index of one article was read against its own length, and one short note added beside it
# moved the evidence of every question: the shipped article's "Who is the Kremlin spokesman?"
# went from answered to "not covered" (a user acceptance sweep, session 19). Questions of BBC
# dev + dev2 asked of their own article, then with 1 / 3 / 10 / 30 short BBC articles beside it
# (bench.few_articles --short): decisions changed 0.017 / 0.033 / 0.044 / 0.050 -> 0.006 /
# 0.017 / 0.028 / 0.028; WikiQA-dev 0.024 / 0.071 / 0.095 / 0.105 -> 0.007 / 0.010 / 0.010 /
# 0.024. The abstention value (bench.cv --oof-ce --fit) 1.505 -> 1.510, the ranking the same.
# 30, not more: the same value and stability for 10-100 and a fixed 220 (BENCHMARKS.md
# "Session 19"), and at 30 an index of thousands of articles keeps its own average (its stored
# BM25 postings stay as they were written).
ARTICLE_LENGTH = (220.0, 30.0)

# Added to the asked-about person's statements in the article where the best of them stands, so
# "what did X say about Y" gets X's statements on Y together.
FOCUS = 1.0

# Rows ranked before duplicates are dropped: enough that k distinct sentences remain when wire
# copy repeats across articles.
def pool(k: int) -> int:
    return 4 * k + 20


# ---- the answer kind (qa/ranking/kinds.py) ------------------------------------------------
# The best KIND_DEPTH candidates are re-ordered by score + KIND_WEIGHT x how well they hold the
# kind of answer asked for (a date, a count, money, a cause): it moved three BBC fact answers to
# the top, and looking 20 deep brought WikiQA-dev answers at 11-20 within the cross-encoder's
# reach ("Session 9 additions").
KIND_WEIGHT = 0.15
KIND_DEPTH = 20
# Evidence taken away / added when the ranker's best candidate holds nothing / exactly of the
# kind asked: WikiQA-dev `none` abstained 0.371 -> 0.394 (MISSING), then two traded for two
# answered answerable ones (FOUND), BBC unchanged. (Cross-validated over every dev set in issue
# 18, bench/cv.py --fit: with the cut refit, abstention did better without MISSING, 1.440 against
# 1.414; at the 1.0 cut kept below it makes no difference; kept, with FOUND, which the shipped
# article's "When did Kishida and Biden talk?" needs.)
KIND_MISSING = 0.1
KIND_FOUND = 0.1
KIND_UNIT_AFTER = 5  # "77 short and medium-distance flights": a counted noun within this many words

# ---- the cross-encoder (qa/ranking/crossencoder.py) ---------------------------------------
RERANK_DEPTH = 10  # the best candidates it re-orders: 10 and 3 layers fit the 50 ms budget
RERANK_WEIGHT = 0.2  # of its probability, against the ranker's score (both 0 to 1)
RERANK_MAX_LENGTH = 128  # question + sentence, in word pieces

# ---- deciding (qa/ranking/decide.py) ------------------------------------------------------
# The answer/abstain rule for every corpus size: log-odds = bias + the sum of weight x signal
# (decide.signals); the corpus answers at log-odds >= 0. Chosen by cross-validation, folds by
# article, over WikiQA-dev, BBC dev + dev2, small.jsonl and the WikiQA-dev / BBC questions each
# asked of one article alone (bench/cv.py --fit, BENCHMARKS.md "Quality").
# - evidence: the ranker's best candidate's. Its cut is 1.0 (bias = -evidence weight): the fit's
#   1.023 leaves the shipped article's "Who is the Kremlin spokesman?" (evidence 1.010) unanswered.
# - unseen: the names and numbers of the question its best candidate's article never mentions
#   (decide.unseen). Each one costs 1.0 of log-odds, as if the evidence cut were 1.31: chosen
#   from 0 to -5 by CV (folds' picks -1 x3, -0.75 x2); out of fold `none` abstained on BBC dev2
#   0.35 -> 0.50 and on BBC questions each of one article 0.41 -> 0.62, answered 0.97 -> 0.94 and
#   0.95 -> 0.92. It never moves a question that names nothing new (the shipped article's).
# - asked_absent (retired, session 19): 1 when the question asks who / where / when / how many /
#   how much / why and the best candidate holds no new item of that kind (kinds.holds_asked).
#   Kept at -0.75 in issue 18's third round; once the ranking read sentences in their articles
#   it no longer carried: shipped -0.75 against 0, value 1.507 / 1.505 in fold, but chosen
#   between the two per fold (picks 0, -0.75 x3, 0) 1.494 out of fold, and over -5..5 the
#   folds' picks scatter from -1.5 to 0.75 (1.489). Without it the margin below is still picked
#   at 3 by every fold (1.505 out of fold = in fold). It weighs 0: one `none` question of BBC
#   dev2 and one of BBC's one-article questions are answered again (BENCHMARKS.md "Session 19").
# - margin: how far the ranker's best candidate's score stands above the second's (0 to 1 scale,
#   after the kind re-score, before the cross-encoder). Chosen from -5 to 5 by CV on top of
#   evidence, unseen and asked_absent once the ranking read sentences in their articles (issue 18,
#   session 17; every fold picked 3, and again without asked_absent): `none` abstained / answered,
#   out of fold, BBC dev 0.86 -> 0.90 answered, BBC dev2 0.95 -> 0.97 answered at 0.60 abstained,
#   small.jsonl 0.92 -> 0.94 answered at 0.67 (BENCHMARKS.md "Where issue 18 stands after session
#   17"). An answer stands out from the next candidate; a near miss is one of several alike. Before
#   in_article it did not carry.
# The other signals compared there weigh 0: none carried out of fold beyond these (score,
# z-score, coverage, corpus size, said-by, article BM25, question and sentence length, the
# evidence's parts, the best evidence's gap to the GAP_DEPTH-th candidate, and the
# cross-encoder's probabilities, which rank BBC's `none` questions above answerable ones; in the
# third round: content words beyond the names in the best sentence and its article, the best
# evidence's z-score among the question's own candidates, the cross-encoder's probability
# relative to its head's: BENCHMARKS.md "Abstention, third round").
ANSWER_MODEL = {"bias": -3.2472, "evidence": 3.2472, "unseen": -1.0, "margin": 3.0,
                "asked_absent": 0.0, "score": 0.0, "zscore": 0.0, "coverage": 0.0, "log_rows": 0.0,
                "gap": 0.0}
GAP_DEPTH = 10  # decide.signals "gap": the best evidence less that of this many-th candidate
# Hits without evidence (made without the ranker) are judged by their score: the naive rule of
# the benchmark's baseline.
COSINE_THRESHOLD = 0.35

# ---- the sentence encoders (qa/encoders/) ---------------------------------------------------
MAX_SEQ_LENGTH = 256  # word pieces a sentence is cut to: news sentences are far shorter; this
# bounds the cost of a pathological one (both backends)
ONNX_BATCH = 32  # sentences an ONNX run takes at once (sorted by length: little padding)
TORCH_BATCH = 64  # the same for sentence-transformers
# On a GPU (QA_DEVICE=cuda): large sorted batches, sentences in chunks encoded by three calls at
# once (one tokenises while another's batches run). H100, BBC sentences (bench/gpu_ingest.py
# compare): 6,270 / 5,835 sentences/s against plain sentence-transformers at batch 1,024:
# 4,576 / 4,021; 2 calls of 512: 5,261 / 5,657.
GPU_BATCH = 1024
GPU_CHUNK = 8192
GPU_THREADS = 3

# ---- who says what (qa/ingest/speakers.py) -----------------------------------------------------------
MAX_QUOTE_SENTENCES = 8  # a quotation left open longer than this is taken as unbalanced marks

# ---- limits on input and output ----------------------------------------------------------
MAX_K = 1000  # hits a question may ask for
MAX_QUESTION_CHARS = 2000  # a longer question is cut (the encoder reads 256 word pieces anyway)
CONTEXT_SENTENCES = 2  # neighbours on each side in Hit.context
ENCODE_CHUNK = 256  # sentences embedded at a time when adding
# An ingest embeds while it splits: the first sentences go to the encoder once this many are
# split (a smaller first group pads its batches more), the rest as they pile up
# (qa/encoders/overlap.py).
OVERLAP_FIRST = 512
PROGRESS_BAR_MIN = 2000  # sentences to embed before a progress bar is shown on a terminal

# ---- long ingests (qa/ingest/archive.py) -----------------------------------------------------------
# A long `qa ingest` commits at least every COMMIT_ARTICLES articles or COMMIT_SECONDS of work,
# whichever comes first (QA_COMMIT_ARTICLES, QA_COMMIT_SECONDS): each commit writes a whole
# generation, so a crash loses at most this much ("Live archive").
COMMIT_ARTICLES = 500
COMMIT_SECONDS = 30.0
INGEST_BATCH = 32  # articles embedded at a time between those checks
PROGRESS_SECONDS = 5.0  # a progress line this often when stderr is not a terminal

# ---- the index folder (qa/storage/folder.py) ----------------------------------------------
# A vectors file larger than this is not hashed whole on open: each row is checked against its
# checksum when read (1.5 GB at 1M sentences took 1-2 s to hash).
EAGER_HASH_MAX = 256 << 20
