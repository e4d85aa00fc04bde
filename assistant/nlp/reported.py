"""Who is reported as speaking in a sentence, read from its dependency parse: the subject of
a verb of saying that reports a clause, a quotation or a statement (``reported_speaker``).
The attribution rules (``attribution``) ask it where their surface patterns find no one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from index_build.core.text import QUOTE_MARK, mask_quotes

from .parse import SPEECH_LEMMAS, STATEMENT_NOUNS, cached_pipe

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["reported_speaker", "reported_speakers"]

_RELATIVE = frozenset("who whom that which".split())
_PERSONAL = frozenset("he she they".split())


def reported_speaker(doc: Doc) -> tuple[str, str]:
    """(who, how) of the reported words in a parsed sentence, from the parse alone: the
    subject of a verb of saying that reports something — a clause ("officials said the
    roads…"), a quotation, or a statement noun — not a verb of saying inside the quotation,
    not a negated one ("did not respond"), not a passive subject ("nominees were announced").
    ``how``: "name" (a noun phrase), "pronoun" ("he", "she", "they": the caller resolves it)
    or "" (no speaker)."""
    masked = mask_quotes(doc.text)[0]
    quoted = {t.i for t in doc if masked[t.idx] != doc.text[t.idx]}  # tokens inside quotation marks
    has_quote = QUOTE_MARK.search(doc.text) is not None
    for t in doc:
        if t.i in quoted or t.lemma_.lower() not in SPEECH_LEMMAS or t.pos_ not in ("VERB", "AUX"):
            continue
        deps = {c.dep_ for c in t.children}
        if "neg" in deps:
            continue
        lemma = t.lemma_.lower()
        # "added 300 new words", "wrote a book": an object outside the quotation is what was
        # added or written, not the quotation (except for verbs whose object is the listener or
        # the thing characterised: "told an officer: “…”", "called the segment “…”").
        thing = any(c.dep_ == "dobj" and c.i not in quoted and c.lemma_.lower() not in STATEMENT_NOUNS
                    for c in t.children) and lemma not in _OBJECT_VERBS
        reports = (deps & {"ccomp", "parataxis"} or (has_quote and lemma in _QUOTE_VERBS and not thing)
                   or any(c.dep_ == "dobj" and c.lemma_.lower() in STATEMENT_NOUNS for c in t.children))
        if not reports:
            continue
        subject = next((c for c in t.children if c.dep_ == "nsubj"), None)
        if subject is None:
            agent = next((c for c in t.children if c.dep_ == "agent"), None)
            subject = next((g for g in agent.children if g.dep_ == "pobj"), None) if agent is not None else None
        if subject is None:
            continue
        low = subject.lower_
        if low in _RELATIVE and t.dep_ == "relcl":  # "the police chief, who called it …"
            subject = t.head
        elif low in _PERSONAL:
            return low, "pronoun"
        elif subject.pos_ == "PRON":
            continue
        named = next((c for c in subject.children if c.dep_ == "appos" and c.pos_ == "PROPN"), None)
        if named is not None:  # "His son, George V, insisted …"
            subject = named
        left = min((c.i for c in subject.subtree if c.dep_ in ("compound", "amod", "det", "poss", "flat", "nmod")
                    or c.i == subject.i), default=subject.i)
        return doc[left:subject.i + 1].text, "name"
    return "", ""


# Verbs that attribute a quotation in the same sentence ("“…,” Biden said"; "she told an officer: “…”").
_QUOTE_VERBS = frozenset("say tell write tweet add state insist warn ask reply respond explain call describe".split())
_OBJECT_VERBS = frozenset("tell call describe ask".split())


_SPEAKER_CACHE: dict[str, tuple[str, str]] = {}


def reported_speakers(texts: list[str]) -> list[tuple[str, str]]:
    """``reported_speaker`` of each text (cached by text; new ones parsed in one ``nlp.pipe``
    call: a memo analyses the same articles again)."""
    return cached_pipe(texts, _SPEAKER_CACHE, reported_speaker)
