"""`briefing serve`: the Gradio web app, a view over ``assistant`` and ``index_build``.

Chat with streamed, cited answers; a source viewer that opens the cited article with the
span highlighted; filters; a Sources tab to upload, delete and rebuild with live progress;
and a named API endpoint ``/ask`` that returns the same JSON as ``briefing ask --json``.
The server owns its index: rebuilds run in this process, then the assistant reloads.
"""

from __future__ import annotations

from index_build.core.runtime import offline

offline(gradio=True)  # before gradio is imported (index_build.core.runtime says why)

import inspect  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402

from assistant.answer.service import Assistant  # noqa: E402
from assistant.memo import write_memo  # noqa: E402
from assistant.memo.export import export_all, to_html  # noqa: E402
from assistant.memo.since import read_prior  # noqa: E402
from assistant.models import Filters  # noqa: E402
from index_build.core.errors import BriefingError  # noqa: E402
from index_build.core.settings import Settings  # noqa: E402

from . import render  # noqa: E402
from .forms import MAX_TOPIC_CHARS, InputMistake, check_question, filters_of  # noqa: E402
from .layout import build_blocks  # noqa: E402
from .page_assets import CSS  # noqa: E402
from .web_sources import SourceHandlers, error  # noqa: E402

__all__ = ["WebApp", "build_app", "serve"]

_MEMO_STAGES = {"gather": "Gathering passages", "write": "Writing sections"}


class WebApp(SourceHandlers):
    """The server's state: settings, the assistant (None until an index exists) and the
    handlers the page calls."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None):
        self.settings = settings
        self.assistant = assistant
        self.problem = ""
        self._lock = threading.Lock()
        if assistant is None:
            self._open()

    def _open(self) -> None:
        try:
            self.assistant = Assistant(self.settings)
            self.problem = ""
        except BriefingError as e:
            self.assistant = None
            self.problem = str(e)
            return
        # Load the model while the server starts, not on the first question (which waits
        # for it if it comes sooner).
        threading.Thread(target=self._warm_up, name="warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        if self.assistant is None:
            return
        try:
            self.assistant.corpus.embedder.embed(["warm up"])
        except BriefingError as e:
            self.problem = str(e)

    def _need_assistant(self) -> Assistant:
        if self.assistant is None:
            raise error(f"No index to answer from ({self.problem.rstrip('.') or 'none yet'}). Add source files "
                        "in the Sources tab, or click Rebuild index there to index the sources folder.")
        try:
            self.assistant.refresh()  # picks up a rebuild made elsewhere (`briefing index`); a cheap check
        except BriefingError as e:
            raise error(str(e)) from None
        return self.assistant

    # -- chat ---------------------------------------------------------------------------
    def respond(self, message, chat, history, sources, publishers, since, until, top_k):
        question = (message or "").strip()
        chat = list(chat or [])
        history = list(history or [])
        if not question:
            yield message, chat, history, gr.skip(), ""
            return
        try:
            check_question(question)
            filters = filters_of(sources, publishers, since, until)
        except InputMistake as e:  # the question stays in the box, to be fixed and sent again
            yield message, chat, history, gr.skip(), render.notice_html(str(e))
            return
        assistant = self._need_assistant()
        chat += [{"role": "user", "content": render.question_html(question)},
                 {"role": "assistant", "content": render.streaming_html("")}]
        yield "", chat, history, gr.skip(), ""
        partial, answer = "", None
        try:
            for event in assistant.stream(question, history, filters, int(top_k or 0) or None):
                if isinstance(event, str):
                    partial += event
                    chat[-1] = {"role": "assistant", "content": render.streaming_html(partial)}
                    yield "", chat, history, gr.skip(), ""
                else:
                    answer = event
        except BriefingError as e:
            chat[-1] = {"role": "assistant", "content": render.streaming_html(f"Error: {e}")}
            yield "", chat, history, gr.skip(), render.notice_html(str(e))
            return
        if answer is None:  # (the stream always ends with its Answer)
            return
        note = self._undated_note(filters)
        chat[-1] = {"role": "assistant", "content": render.answer_html(answer, note)}
        yield "", chat, history + [question], render.answer_markdown(answer, note), ""

    def _undated_note(self, filters: Filters) -> str:
        """Why a date filter may have found nothing: documents without a date never match
        one, so say how many were left out (those the source and publisher filters kept)."""
        if not (filters.since or filters.until) or self.assistant is None:
            return ""
        undated = [d for d in self.assistant.corpus.summaries() if not d.published
                   and filters.keeps_source(d.source) and filters.keeps_publisher(d.publisher or "")]
        return render.undated_note(len(undated))

    def open_citation(self, evt: gr.EventData) -> Any:  # the article's HTML, or gr.skip()
        ref = render.parse_cite_ref(getattr(evt, "_data", {}).get("cite") if evt else None)
        if ref is None:
            return gr.skip()
        doc_id, start, end = ref
        doc = self._need_assistant().corpus.document(doc_id)
        if doc is None:
            raise error("That article is no longer in the index; it may have been removed or rebuilt.")
        return render.article_html(doc, start, end)

    def api_ask(self, question: str, history: str | list[str] | None = None,
                top_k: int | None = None) -> dict:  # type: ignore[type-arg]  # (as Gradio's API page shows it)
        """Answer a question from the indexed sources with citations: the same JSON as
        `briefing ask --json`. history: earlier questions of the conversation (a list, or
        a JSON list as a string)."""
        turns = history
        if isinstance(history, str):
            try:
                turns = json.loads(history) if history.strip() else []
            except ValueError:
                raise error("history must be a JSON list of earlier questions") from None
        if turns is None:
            turns = []
        if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
            raise error("history must be a list of earlier questions (strings)")
        if not (question or "").strip():
            raise error("question is empty")
        try:
            check_question(question.strip())
        except InputMistake as e:
            raise error(str(e)) from None
        try:
            answer = self._need_assistant().ask(question, turns, Filters(), int(top_k) if top_k else None)
        except BriefingError as e:
            raise error(str(e)) from None
        return answer.as_json()

    # -- memo ---------------------------------------------------------------------------
    def memo(self, topic, sources, publishers, since, until, long_memo=False, earlier=None, progress=gr.Progress()):
        """Write a memo on ``topic``: a status line, its preview, and its .md, .docx and .html
        files (in a folder of their own for this request) — no files when the sources hold
        nothing on the topic. ``long_memo``: no length budget; ``earlier``: the path of an
        uploaded earlier memo to open with what is new since it."""
        no_files = gr.update(value=None, visible=False)
        topic = (topic or "").strip()
        try:
            if not topic:
                raise InputMistake("Enter a topic for the memo, e.g. Russia and the North Korea sanctions.")
            if len(topic) > MAX_TOPIC_CHARS:
                raise InputMistake(f"A memo topic is limited to {MAX_TOPIC_CHARS:,} characters (this one has "
                                   f"{len(topic):,}): name the subject in a few words.")
            filters = filters_of(sources, publishers, since, until)
            prior = read_prior(earlier) if earlier else None
        except InputMistake as e:
            return render.notice_html(str(e)), gr.skip(), no_files, gr.skip()
        except BriefingError as e:  # the earlier memo is not one Briefing can read
            return render.notice_html(f"The earlier memo cannot be compared: {e}"), gr.skip(), no_files, gr.skip()
        assistant = self._need_assistant()
        stages = list(_MEMO_STAGES)

        def report_progress(stage: str, done: int, total: int) -> None:
            # One bar for the whole memo: each stage fills its share, so it never runs back.
            if total > 0 and stage in _MEMO_STAGES:
                share = (stages.index(stage) + min(done, total) / total) / len(stages)
                progress(share, desc=_MEMO_STAGES[stage])

        progress(0, desc="Starting")
        try:
            memo = write_memo(assistant, topic, filters, progress=report_progress, long=bool(long_memo), since=prior)
            files = export_all(memo, tempfile.mkdtemp(prefix="briefing-memo-")) if memo.citations else {}
        except BriefingError as e:
            return render.notice_html(str(e)), gr.skip(), no_files, gr.skip()
        preview = render.memo_preview_html(to_html(memo, standalone=False))
        if not memo.citations:  # the sources hold nothing on it: nothing worth downloading
            return render.memo_status_html(memo), preview, no_files, render.EMPTY_VIEWER
        return (render.memo_status_html(memo), preview,
                gr.update(value=[str(files[s]) for s in (".md", ".docx", ".html")], visible=True), render.EMPTY_VIEWER)

    # -- layout -------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        return build_blocks(self)


def build_app(settings: Settings) -> gr.Blocks:
    return WebApp(settings).build()


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          auth: list[tuple[str, str]] | None = None, ready: Callable[[str], None] = print) -> None:
    """Start the app and block until interrupted; ``ready(url)`` once it answers."""
    demo = WebApp(settings).build()
    demo.queue(default_concurrency_limit=4)
    launch = inspect.signature(demo.launch).parameters
    options: dict[str, Any] = {"run_history": False} if "run_history" in launch else {}
    try:
        demo.launch(server_name=host, server_port=port, share=False, auth=auth, show_error=True,
                    prevent_thread_lock=True, quiet=True, ssr_mode=False, inbrowser=False,
                    max_file_size=int(settings.max_source_mb * 1024 * 1024), footer_links=["api", "settings"],
                    auth_message="Briefing: sign in to continue." if auth else None, css=CSS, **options)
    except OSError as e:
        raise BriefingError(f"cannot listen on {host}:{port} ({e}); choose another --port") from None
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
    ready(f"http://{shown}:{port}")
    try:
        demo.block_thread()
    finally:
        demo.close()
