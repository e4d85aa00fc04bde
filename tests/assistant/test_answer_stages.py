"""The stages of the extractive answer: question parse, candidates, features, the shipped
learned model, the decision and the composed answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index_build.core.errors import BriefingError
from tests.assistant_fixtures import build_seed_index


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from assistant.answer.corpus import Corpus

    return Corpus(build_seed_index(tmp_path_factory.mktemp("stages"))).snapshot()


# -- the shipped model ------------------------------------------------------------------
def test_the_shipped_model_exists_and_matches_this_feature_set():
    from assistant.answer.features import STAGE1, STAGE2
    from assistant.answer.rank import MODEL_PATH, load_ranker

    assert MODEL_PATH.is_file(), "assistant/data/answer_model.json must ship with the package"
    assert MODEL_PATH.stat().st_size < 1024 * 1024
    r = load_ranker()
    assert r.stage1.features == STAGE1 and r.stage2.features == STAGE2
    assert len(r.stage1.coef) == len(STAGE1)
    x = np.zeros((3, len(STAGE2)))
    assert r.stage2.proba(x).shape == (3,)  # either kind of stage-2 model scores a row per sentence
    assert 0 < r.answer_threshold < 1 and r.answer_threshold <= r.second_threshold <= 1
    cv = r.info["cv"]["held_out_rtqa"]  # trained with cross-validation, scores beside the weights
    assert cv["answerable"] > 1000 and cv["withheld"] > 300 and r.info["trained"]
    # Calibrated for small corpora too (on rtqa questions asked of a few articles, never on the seeds).
    assert r.small_thresholds is not None and 0 < r.small_chunks < r.big_chunks
    assert r.info["cv"]["held_out_small_corpora"]["withheld"] > 100


def test_the_thresholds_move_with_the_size_of_the_index():
    import dataclasses

    from assistant.answer.rank import load_ranker, size_thresholds

    small, big = (0.2, 0.3), (0.4, 0.5)
    assert size_thresholds(5, big, 10_000, small, 100) == small
    assert size_thresholds(100, big, 10_000, small, 100) == small
    assert size_thresholds(10_000, big, 10_000, small, 100) == big
    assert size_thresholds(50_000, big, 10_000, small, 100) == big
    mid = size_thresholds(1_000, big, 10_000, small, 100)  # halfway on the log scale
    assert mid == pytest.approx((0.3, 0.4))
    assert size_thresholds(1_000, big, 10_000, None, 100) == big  # no small-corpus calibration
    r = dataclasses.replace(load_ranker(), answer_threshold=0.4, second_threshold=0.5, big_chunks=10_000,
                            small_chunks=100, small_thresholds=small)
    assert r.thresholds(11) == small and r.thresholds(12) == small  # one more document changes nothing
    assert r.thresholds(20_000) == (0.4, 0.5)


def test_a_model_trained_on_other_features_is_refused(tmp_path):
    from assistant.answer.rank import MODEL_PATH, load_ranker

    data = json.loads(MODEL_PATH.read_text())
    data["stage2"]["features"][0] = "some_old_feature"
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BriefingError, match="another feature set"):
        load_ranker(path)
    with pytest.raises(BriefingError, match="missing"):
        load_ranker(tmp_path / "nope.json")


def test_the_linear_model_is_a_standardised_logistic():
    from assistant.answer.rank import Linear

    m = Linear(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5)
    x = np.array([[3.0, 1.0], [1.0, 0.0]])
    assert m.logit(x) == pytest.approx([0.5, 0.5])
    assert m.proba(np.array([[1.0, 100.0]]))[0] < 1e-6


def test_exported_trees_give_the_same_log_odds_as_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from assistant.answer.rank import Ranker, Trees, load_model
    from bench.train_answer import trees_from_sklearn

    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 4))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0.3) | (x[:, 3] > 1.5)
    clf = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=8, early_stopping=False).fit(x, y)
    trees = trees_from_sklearn(clf, ("a", "b", "c", "d"))
    probe = rng.normal(size=(50, 4)) * 2
    assert trees.logit(probe) == pytest.approx(clf.decision_function(probe), abs=1e-9)
    again = load_model(json.loads(json.dumps(trees.as_json())))  # through the JSON file and back
    assert isinstance(again, Trees)
    assert again.proba(probe) == pytest.approx(clf.predict_proba(probe)[:, 1], abs=1e-6)
    assert trees.logit(np.zeros((0, 4))).shape == (0,)
    broken = trees.as_json()
    broken["left"][0] = len(broken["left"]) + 5
    with pytest.raises(ValueError, match="outside"):
        load_model(broken)
    with pytest.raises(BriefingError, match="incomplete"):
        Ranker.from_json({"stage1": {}, "stage2": broken})


# -- the question parse -------------------------------------------------------------------
@pytest.mark.parametrize("question, qtype", [
    ("Which country declared an internal armed conflict?", "which"),
    ("How many work permits were issued?", "how_many"),
    ("How much oil does it import?", "how_much"),
    ("In what year did the talks start?", "when"),
    ("Who is the State Department spokesman?", "who"),
    ("Where did Yun travel?", "where"),
    ("Why did Yun go to Moscow?", "why"),
    ("Did Russia agree?", "yesno"),
])
def test_question_types_come_from_the_parse(question, qtype):
    from assistant.nlp import parse_question

    assert parse_question(question).qtype == qtype


def test_which_questions_have_a_focus_and_speech_questions_a_subject():
    from assistant.nlp import parse_question

    assert parse_question("Which country declared an internal armed conflict?").focus == "country"
    q = parse_question("What did Ri Yong Ho demand?")
    assert q.asks_words and "Ri" in q.subject
    assert not parse_question("Why did Joseph Yun travel to Moscow?").asks_words


@pytest.mark.parametrize("question", ["Which company announced it would ban the word “blacklist”?",
                                      "Which newspaper reported the number of work permits?",
                                      "Whose spokesman said the visit increased pressure?"])
def test_a_question_that_asks_who_spoke_does_not_ask_for_someones_words(question):
    """The wh-phrase is the speaker asked for, not a speaker named: no sentence may be vetoed
    as "someone else's words" (the answer's speaker is never "Which company")."""
    from types import SimpleNamespace

    from assistant.answer.compose import _attributed, names_a_subject
    from assistant.nlp import parse_question, parse_sentences

    q = parse_question(question)
    assert not q.asks_words and not names_a_subject(q)
    text = "Microsoft announced on Tuesday that it would drop the terms."
    sp, = parse_sentences([text])
    assert sp.speakers  # a named speaker, who is the answer
    assert _attributed(q, [SimpleNamespace(text=text)], [sp], [sp], np.array([0.7]))[0] == 0.7


def test_a_full_parse_cache_empties_without_losing_what_was_asked(monkeypatch):
    """Past its limit the cache is emptied while new parses go in: texts of the same call that
    were cached a moment before still come back (they raised KeyError before stop 31's review)."""
    from assistant.nlp import parse

    monkeypatch.setattr(parse, "_SENT_CACHE_LIMIT", 2)
    cache: dict[str, str] = {}
    assert parse.cached_pipe(["Ri spoke.", "Pompeo left."], cache, lambda d: d.text) == ["Ri spoke.", "Pompeo left."]
    got = parse.cached_pipe(["Ri spoke.", "Kim waited.", "Ri spoke."], cache, lambda d: d.text)
    assert got == ["Ri spoke.", "Kim waited.", "Ri spoke."]
    assert cache == {"Kim waited.": "Kim waited."}  # emptied, then the new parse


def test_the_speaker_is_the_subject_of_the_speech_verb():
    from assistant.nlp import parse_sentences

    s = parse_sentences(["“We remain open to negotiations toward that goal,” said State Department "
                         "spokesman Justin Higgins."])[0]
    assert any("Higgins" in name for name in s.speakers)
    assert ("Justin Higgins", "PERSON") in s.entities
    assert parse_sentences(["The talks began in April."])[0].speakers == ()
    # Whoever issues or reads out a statement speaks, whatever the verb.
    s = parse_sentences(["Shortly after Pompeo left, Ri read out a statement that set a confrontational tone."])[0]
    assert s.speakers == ("Ri",) and s.has_speech
    assert parse_sentences(["He read a book about the war."])[0].speakers == ()


# -- candidates and features ----------------------------------------------------------
def test_candidates_are_exact_spans_and_never_the_headline(corpus):
    from assistant.answer.candidates import candidate_sentences
    from assistant.answer.retrieve import retrieve

    passages = retrieve(corpus, "What did Ri Yong Ho demand?", k=8).passages
    cands = candidate_sentences(corpus, passages)
    assert len(cands) > 10
    assert len({(c.doc_id, c.start, c.end) for c in cands}) == len(cands)
    for c in cands:
        doc = corpus.document(c.doc_id)
        assert doc.text[c.start:c.end] == c.text
        assert c.text.strip() != doc.title.strip()


def test_lexical_features_prefer_the_sentence_that_covers_the_question(corpus):
    from assistant.answer.candidates import candidate_sentences
    from assistant.answer.features import STAGE1, question_terms, stage1_matrix
    from assistant.answer.retrieve import retrieve

    q = "Who did Joseph Yun meet in Moscow?"
    cands = candidate_sentences(corpus, retrieve(corpus, q, k=8).passages)
    x = stage1_matrix(corpus, question_terms(corpus, q), cands)
    lex = x[:, STAGE1.index("lex_sentence")]
    best = cands[int(np.argmax(lex))].text
    assert "Yun" in best and "Moscow" in best, best
    assert np.all((lex >= 0) & (lex <= 1))
    assert x[:, STAGE1.index("lex_sentence_rel")].max() == 0.0


def test_new_entities_of_the_question_type_are_features():
    from assistant.answer.candidates import Candidate
    from assistant.answer.features import STAGE1, STAGE2, stage2_matrix
    from assistant.models import Passage
    from assistant.nlp import parse_question, parse_sentences

    p = Passage(1, "c", "d", "s.txt", "T", "", None, 0, 100, "x", 1.0)
    texts = ["Ecuador's president declared an internal armed conflict on Tuesday.",
             "The country declared an internal armed conflict."]
    cands = [Candidate("d", 0, len(t), t, p, "", "T", 0.1, 0) for t in texts]
    q = parse_question("Which country declared an internal armed conflict?")
    x = stage2_matrix(np.zeros((2, len(STAGE1))), cands, q, parse_sentences(texts), parse_sentences(["", ""]),
                      np.array([0.5, 0.6]))
    col = STAGE2.index("q_which_x_new_place")
    assert x[0, col] == 1.0 and x[1, col] == 0.0
    assert x[1, STAGE2.index("cos_rel")] == 0.0 and x[0, STAGE2.index("cos_rel")] == pytest.approx(-0.1)
    assert x[1, STAGE2.index("focus_in_sentence")] == 1.0


@pytest.mark.integration
def test_soft_coverage_matches_paraphrase_tokens_and_falls_back_to_exact_words(corpus):
    """The token-level match: with MiniLM's token states a sentence that says the question's
    words in other forms covers it better than an unrelated one; without token states the
    same features count exact (stemmed) word matches."""
    from assistant.answer.features import soft_matrix

    q = "Which country declared an internal armed conflict?"
    texts = ["Ecuador's president declared a state of internal armed conflict on Tuesday.",
             "The central bank raised interest rates by a quarter point."]
    from index_build.embed import MiniLMEmbedder

    vectors, states = MiniLMEmbedder().embed_tokens([q] + texts)
    assert states is not None and len(states) == 3 and vectors.shape == (3, 384)
    assert "conflict" in states[0].words and states[0].vectors.shape[1] == 384
    soft = soft_matrix(corpus, q, texts, states[0], states[1:])
    assert soft[0, 0] > soft[1, 0] + 0.2 and soft[0, 4] == 0.0 and soft[1, 4] < 0
    assert np.all(soft[:, :4] <= 1.0 + 1e-6)
    exact = soft_matrix(corpus, q, texts)
    assert exact[1, 0] == 0.0 and 0.5 < exact[0, 0] <= 1.0 and exact[0, 1] == 0.0  # "country" is not in it


def test_pool_features_see_the_whole_candidate_set():
    from assistant.answer.candidates import Candidate
    from assistant.answer.features import pool_matrix, question_terms
    from assistant.models import Passage
    from assistant.nlp import parse_question, parse_sentences

    class _Idf:
        def idf(self, term):
            return 2.0

    p = Passage(1, "c", "d1", "s.txt", "T", "", None, 0, 100, "x", 1.0)
    texts = ["Quito declared that Ecuador faces an internal armed conflict.", "Ecuador closed its ports.",
             "Peru sent troops to the border."]
    cands = [Candidate(doc, 0, len(t), t, p, "", "T", 0.1, 0) for doc, t in zip(("d1", "d2", "d3"), texts)]
    question = "Which country declared an internal armed conflict after gunmen stormed a TV studio?"
    q = parse_question(question)
    x = pool_matrix(_Idf(), q, question_terms(_Idf(), question), cands, cands[:1], parse_sentences(texts[:1]))
    cover, missing_rare, support, supported = x[0]
    assert 0.3 < cover < 1.0 and missing_rare == 1.0
    assert supported == 1.0 and support == pytest.approx(np.log1p(1))  # "Ecuador" again in d2


@pytest.mark.parametrize("subject, speaker, same", [
    ("South Korea's foreign minister", "North Korean Foreign Minister Ri Yong Ho", False),
    ("the senior official", "A senior administration official", True),
    ("Ri", "Ri", True),
    ("Xi Jinping", "Xi", True),
    ("the State Department spokesman", "State Department spokesman Justin Higgins", True),
    ("the Russian foreign ministry", "The Russia foreign ministry", True),  # a country's adjective
    ("Ukrainian officials", "Ukraine", True),
    ("Haley", "Hale", False),  # not an adjective ending
])
def test_a_question_subject_is_matched_to_a_speaker_by_its_names(subject, speaker, same):
    from assistant.answer.features import speaks_for

    assert speaks_for(subject, speaker) is same


# -- decision and composition ------------------------------------------------------------
def test_below_the_threshold_the_assistant_abstains(corpus, monkeypatch):
    import dataclasses

    from assistant.answer import compose as answer_mod
    from assistant.answer.rank import load_ranker
    from assistant.answer.retrieve import retrieve

    strict = dataclasses.replace(load_ranker(), answer_threshold=1.01, small_thresholds=None)
    passages = retrieve(corpus, "What did Ri Yong Ho demand?", k=8).passages
    sel = answer_mod.select_answer(corpus, "What did Ri Yong Ho demand?", passages, strict)
    assert sel.abstained and sel.ranked and sel.best < 1.01
    easy = dataclasses.replace(load_ranker(), answer_threshold=0.0, second_threshold=0.0, small_thresholds=None)
    sel = answer_mod.select_answer(corpus, "What did Ri Yong Ho demand?", passages, easy)
    assert len(sel.chosen) == 2 and sel.chosen[0].probability >= sel.chosen[1].probability
    a, b = (s.candidate for s in sel.chosen)
    assert not (a.doc_id == b.doc_id and a.start < b.end and b.start < a.end)


def test_the_short_answer_is_an_entity_of_the_likeliest_kind():
    import dataclasses

    from assistant.answer.candidates import Candidate
    from assistant.answer.compose import Scored, _short_answer
    from assistant.answer.rank import load_ranker
    from assistant.models import Passage
    from assistant.nlp import parse_question, parse_sentences

    r = dataclasses.replace(load_ranker(), short_answer_prior={"who": {"person": 0.8, "org": 0.1}},
                            short_answer_min=0.2)
    t = "“We remain open to negotiations,” said State Department spokesman Justin Higgins."
    p = Passage(1, "c", "d", "s.txt", "T", "", None, 0, 100, t, 1.0)
    s = Scored(Candidate("d", 0, len(t), t, p, "", "T", 0.0, 0), 0.9, parse_sentences([t])[0],
               parse_sentences([""])[0])
    assert _short_answer(parse_question("Who is the State Department spokesman?"), s, r) == "Justin Higgins"
    assert _short_answer(parse_question("Why did they say it?"), s, r) == ""
    # Where the question's wh-word stands as the subject of its verb, the sentence's subject of
    # that verb answers, entity or not (not the sentence's one person, Putin).
    t = "The Russian government had invited Yun as part of President Vladimir Putin’s larger effort."
    s = Scored(Candidate("d", 0, len(t), t, p, "", "T", 0.0, 0), 0.9, parse_sentences([t])[0],
               parse_sentences([""])[0])
    assert parse_question("Who had invited Yun to Moscow?").gap == ("invite", "subject")
    assert _short_answer(parse_question("Who had invited Yun to Moscow?"), s, r) == "The Russian government"
    assert parse_question("Who is the president of Russia?").gap == ("", "")  # "be": entities decide


def test_a_quotation_that_runs_on_keeps_its_attribution_as_context():
    from assistant.answer.candidates import sentence_before as _before

    text = ("Intro.\n\n“This visit is an example of our discussions,” said State Department spokesman Justin "
            "Higgins. “The United States seeks stability. We remain open to negotiations toward that goal.”")
    attribution = "“This visit is an example of our discussions,” said State Department spokesman Justin Higgins."
    assert _before(text, text.index("We remain")) == attribution  # two sentences into Higgins's quote
    assert _before(text, text.index("“The United")) == attribution
    plain = "Intro.\n\nYun arrived on Monday. He met Morgulov on Tuesday."
    assert _before(plain, plain.index("He met")) == "Yun arrived on Monday."
    assert _before(plain, plain.index("Yun arrived")) == ""


def test_a_quote_is_the_words_of_the_speaker_its_attribution_names():
    from assistant.answer.compose import names_a_subject, someone_elses_words
    from assistant.nlp import parse_question, parse_sentences

    quote = "“Rex Tillerson and I were just discussing not knowing if it has any impact.”"
    before = "“We think it’s just another very small step – not a big deal,” Trump said about the resolution."
    sp, bp = parse_sentences([quote, before])
    tillerson = parse_question("What did Rex Tillerson say about the resolution?")
    assert names_a_subject(tillerson) and someone_elses_words(tillerson, quote, sp, bp)  # Trump's words
    assert not someone_elses_words(parse_question("What did Trump say about the resolution?"), quote, sp, bp)
    plain = "Tillerson met the press on Tuesday."
    assert not someone_elses_words(tillerson, plain, *parse_sentences([plain, before]))  # no quote: no speaker
    assert not names_a_subject(parse_question("What did the senior official say?"))


def test_the_fallback_may_not_cite_what_the_learned_selector_found_far_from_the_question():
    from types import SimpleNamespace as NS

    from assistant.answer.service import RELATED_SHARE, _implausible

    def scored(doc, a, b, p):
        return NS(candidate=NS(doc_id=doc, start=a, end=b), probability=p)

    sel = NS(threshold=0.3, ranked=[scored("d", 0, 10, 0.25), scored("d", 20, 30, 0.3 * RELATED_SHARE - 0.01)])
    cite = lambda doc, a, b: NS(doc_id=doc, start=a, end=b)  # noqa: E731
    assert not _implausible(sel, NS(citations=[cite("d", 0, 10)]))  # close below the threshold: may answer
    assert _implausible(sel, NS(citations=[cite("d", 0, 10), cite("d", 20, 30)]))  # one far sentence: no
    assert not _implausible(sel, NS(citations=[cite("d", 40, 50)]))  # never scored (a byline): not judged
