"""Language analysis: the spaCy parse of questions and sentences (``parse``), who is reported
as speaking in one sentence (``reported``), who speaks in a document (``attribution``: the
rules, with the parse where they find no one), names of people, groups and places
(``names``), and dates resolved against an article's date (``dates``)."""

from .parse import (
    ENTITY_GROUPS,
    QUESTION_TYPES,
    SPEECH_LEMMAS,
    QuestionParse,
    SentenceParse,
    entity_group,
    load_nlp,
    parse_question,
    parse_sentences,
)
from .reported import reported_speaker, reported_speakers

__all__ = ["QuestionParse", "SentenceParse", "parse_question", "parse_sentences", "load_nlp", "ENTITY_GROUPS",
           "QUESTION_TYPES", "entity_group", "SPEECH_LEMMAS", "reported_speaker", "reported_speakers"]
