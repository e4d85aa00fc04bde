"""Follow-up condensing: what a question borrows from earlier turns, and what it does not."""

from assistant.answer.converse import condense, needs_context

HISTORY = ["What did Ri Yong Ho demand?", "What did he say about impatience?"]


def test_a_pronoun_without_an_antecedent_takes_the_last_named_person():
    c = condense("What did he say about impatience?", ["What did Ri Yong Ho demand?"])
    assert c.question.startswith("What did Ri Yong Ho say")
    assert "Ri Yong Ho" in c.query


def test_a_pronoun_whose_antecedent_is_in_the_question_leaves_the_question_alone():
    # "his" is Kim's: swapping in the earlier turn's person would ask about Ri's letter
    question = "What did Kim Jong Un say in his letter to Trump?"
    assert not needs_context(question)
    c = condense(question, HISTORY)
    assert c.question == question and c.query == question


def test_a_named_question_that_leans_on_an_earlier_meeting_still_carries_its_words():
    c = condense("What did Morgulov stress at that meeting?", ["Who did Joseph Yun meet in Moscow?"])
    assert c.question == "What did Morgulov stress at that meeting?"
    assert "Joseph Yun" in c.query and "moscow" in c.query.lower()


def test_without_history_nothing_changes():
    assert condense("What did he say?", []).query == "What did he say?"
