"""Answers: the read side of an index (``corpus``), hybrid retrieval (``retrieve``), follow-ups
(``converse``), the extractive answer (``candidates`` → ``features`` → ``rank`` → ``compose``;
the older hand-written ``extractive`` where the learned one abstains), generative answers
(``generate``), citation and support checks (``verify``), and ``service.Assistant`` over them."""
