"""`briefing serve`: the Gradio web app, a view over ``assistant`` and ``index_build``.

Chat with streamed, cited answers; a source viewer that opens the cited article with the
span highlighted; filters; a Sources tab to upload, delete and rebuild with live progress;
and a named API endpoint ``/ask`` that returns the same JSON as ``briefing ask --json``.
The server owns its index: rebuilds run in this process, then the assistant reloads.
"""

from __future__ import annotations

import os

# Before gradio is imported: no usage analytics, no version check (no outbound network).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import json  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from assistant.corpus import date_key  # noqa: E402
from assistant.models import Filters  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from index_build.build import build_index  # noqa: E402
from index_build.errors import BriefingError, SourceError  # noqa: E402
from index_build.readers import SUPPORTED_SUFFIXES  # noqa: E402
from index_build.settings import Settings  # noqa: E402
from index_build.status import index_status  # noqa: E402

from . import render  # noqa: E402
from .uploads import delete_source, list_sources, save_upload  # noqa: E402

__all__ = ["WebApp", "build_app", "serve", "CSS"]

_STAGES = {"scan": "Hashing sources", "read": "Reading & chunking", "embed": "Embedding passages",
           "store": "Writing index"}
_TABLE_HEADERS = ["File", "Headline", "Publisher", "Author", "Published", "Characters", "Passages"]

# Citation links live inside chat messages; one capturing listener on the document sends a
# click on any of them to the viewer's "click" event with the citation reference.
VIEWER_JS = """
window.__briefingOpen = (ref) => trigger('click', {cite: ref});
if (!window.__briefingCites) {
  window.__briefingCites = true;
  document.addEventListener('click', (ev) => {
    const a = ev.target && ev.target.closest ? ev.target.closest('a.cite, a[href^="#cite:"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const ref = (a.getAttribute('href') || '').replace(/^#cite:/, '');
    window.__briefingOpen(ref);
  }, true);
}
// Scroll the cited span into view: inside the panel when it scrolls (wide screens),
// else in the page (phones, where the panel sits below the chat).
watch('value', () => setTimeout(() => {
  const m = element.querySelector('mark#cited');
  const box = document.getElementById('viewer');
  if (!m || !box) return;
  if (box.scrollHeight > box.clientHeight + 4) {
    const top = m.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTo({top: Math.max(0, top - box.clientHeight / 3)});
    box.scrollIntoView({block: 'nearest'});
  } else {
    m.scrollIntoView({block: 'center'});
  }
}, 60));
"""

CSS = """
.answer p { margin: 0 0 .4em 0; }
.answer .abstain { font-style: italic; }
.answer-sources { font-size: .92em; margin-top: .5em; padding-top: .4em;
  border-top: 1px solid var(--border-color-primary); }
.answer-sources p { font-weight: 600; margin: 0 0 .2em 0; }
.answer-sources ul, .answer-sources ol { margin: 0; padding-left: 1.2em; }
.answer-sources .snippet { color: var(--body-text-color-subdued); }
a.cite { font-weight: 600; text-decoration: underline; cursor: pointer; padding: 0 .1em; }
a.cite.passage { font-weight: 500; }
a.cite:focus-visible, #viewer:focus-visible { outline: 3px solid var(--color-accent); outline-offset: 2px; }
*:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
#viewer { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  padding: .8em 1em; max-height: 78vh; overflow-y: auto !important; background: var(--background-fill-primary); }
#viewer .source-head { position: sticky; top: -.8em; background: var(--background-fill-primary);
  padding: .4em 0 .3em 0; border-bottom: 1px solid var(--border-color-primary); margin-bottom: .5em; }
#viewer .source-title { margin: 0 0 .3em 0; }
#viewer .meta { color: var(--body-text-color-subdued); margin: 0 0 .3em 0; overflow-wrap: anywhere; }
#viewer .cited-note { font-size: .9em; margin: 0 0 .6em 0; }
#viewer .article-body { white-space: pre-wrap; line-height: 1.55; overflow-wrap: anywhere; }
#viewer mark#cited { background: #ffe066; color: #111; padding: .05em .1em; border-radius: 2px;
  scroll-margin: 8em; }
.build-errors { color: var(--error-text-color, #b91c1c); }
.index-status { margin: .2em 0; overflow-wrap: anywhere; }
/* Phones: the viewer sits below the chat and the page scrolls; keep the headline in sight. */
@media (max-width: 720px) { #viewer { max-height: none; overflow: visible !important; }
  #viewer .source-head { top: 0; } }
"""


class WebApp:
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
            self.assistant.corpus.embedder.embed(["warm up"])  # load the model now, not on the first question
            self.problem = ""
        except BriefingError as e:
            self.assistant = None
            self.problem = str(e)

    def _need_assistant(self) -> Assistant:
        if self.assistant is None:
            raise gr.Error(f"{self.problem or 'No index yet.'} Add sources in the Sources tab and rebuild.")
        return self.assistant

    # -- chat ---------------------------------------------------------------------------
    def respond(self, message, chat, history, sources, publishers, since, until, top_k):
        question = (message or "").strip()
        chat = list(chat or [])
        history = list(history or [])
        if not question:
            yield message, chat, history, gr.skip()
            return
        assistant = self._need_assistant()
        filters = _filters(sources, publishers, since, until)
        chat += [{"role": "user", "content": render.question_html(question)},
                 {"role": "assistant", "content": render.streaming_html("")}]
        yield "", chat, history, gr.skip()
        partial, answer = "", None
        try:
            for event in assistant.stream(question, history, filters, int(top_k or 0) or None):
                if isinstance(event, str):
                    partial += event
                    chat[-1] = {"role": "assistant", "content": render.streaming_html(partial)}
                    yield "", chat, history, gr.skip()
                else:
                    answer = event
        except BriefingError as e:
            chat[-1] = {"role": "assistant", "content": render.streaming_html(f"Error: {e}")}
            yield "", chat, history, gr.skip()
            raise gr.Error(str(e)) from None
        chat[-1] = {"role": "assistant", "content": render.answer_html(answer)}
        yield "", chat, history + [question], render.answer_markdown(answer)

    def open_citation(self, evt: gr.EventData) -> str:
        ref = render.parse_cite_ref(getattr(evt, "_data", {}).get("cite") if evt else None)
        if ref is None:
            return gr.skip()
        doc_id, start, end = ref
        doc = self._need_assistant().corpus.document(doc_id)
        if doc is None:
            raise gr.Error("That article is no longer in the index; it may have been removed or rebuilt.")
        return render.article_html(doc, start, end)

    def api_ask(self, question: str, history: str | list[str] | None = None, top_k: int | None = None) -> dict:
        """Answer a question from the indexed sources with citations: the same JSON as
        `briefing ask --json`. history: earlier questions of the conversation (a list, or
        a JSON list as a string)."""
        turns = history
        if isinstance(history, str):
            try:
                turns = json.loads(history) if history.strip() else []
            except ValueError:
                raise gr.Error("history must be a JSON list of earlier questions") from None
        if turns is None:
            turns = []
        if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
            raise gr.Error("history must be a list of earlier questions (strings)")
        if not (question or "").strip():
            raise gr.Error("question is empty")
        try:
            answer = self._need_assistant().ask(question, turns, Filters(), int(top_k) if top_k else None)
        except BriefingError as e:
            raise gr.Error(str(e)) from None
        return answer.as_json()

    # -- sources ------------------------------------------------------------------------
    def sources_view(self):
        """Status, documents table, and the choices that depend on what is indexed."""
        try:
            info = index_status(self.settings)
        except BriefingError as e:
            info, self.problem = None, str(e)
        rows, sources, publishers = [], [], []
        if info is not None and self.assistant is not None:
            docs = self.assistant.corpus.documents()
            rows = [[d["source"], d["title"], d["publisher"], d["author"], d["published"] or "",
                     d["characters"], d["chunks"]] for d in docs]
            sources = sorted({d["source"] for d in docs})
            publishers = sorted({d["publisher"] for d in docs if d["publisher"]})
        files = list_sources(self.settings.sources_dir)
        return (render.status_html(info, self.problem), rows,
                gr.update(choices=sources), gr.update(choices=publishers),
                gr.update(choices=files, value=None))

    def save_files(self, files) -> tuple[dict, None]:
        """Copy uploads into the sources folder; what happened to each file, by name."""
        saved, errors = [], []
        for f in files or []:
            path = f if isinstance(f, str) else getattr(f, "name", str(f))
            original = Path(path).name
            try:
                name, replaced = save_upload(path, original, self.settings.sources_dir, self.settings.max_source_mb)
                saved.append(f"{'Replaced' if replaced else 'Added'} {name}")
            except SourceError as e:
                errors.append((e.source, e.reason))
            except OSError as e:
                errors.append((original, f"could not be saved ({e.strerror})"))
        return {"saved": saved, "errors": errors}, None

    def rebuild_after_upload(self, outcome: dict, progress=gr.Progress()):
        notes, errors = outcome.get("saved", []), [tuple(e) for e in outcome.get("errors", [])]
        if not notes:
            return (render.build_report_html(None, [], errors), *[gr.skip()] * 5)
        return self._rebuild(progress, notes, errors)

    def rebuild(self, progress=gr.Progress()):
        return self._rebuild(progress)

    def _rebuild(self, progress, notes=(), errors=()):
        def report_progress(stage: str, done: int, total: int) -> None:
            if total > 0:
                progress((done, total), desc=_STAGES.get(stage, stage),
                         unit="passages" if stage == "embed" else "files")

        progress(0, desc="Starting")
        with self._lock:
            try:
                report = build_index(self.settings, progress=report_progress)
            except BriefingError as e:
                raise gr.Error(str(e)) from None
            if self.assistant is None:
                self._open()
            else:
                self.assistant.refresh()
        return (render.build_report_html(report, notes, errors), *self.sources_view())

    def delete(self, source: str | None) -> str:
        if not source:
            raise gr.Error("Choose a source file to delete.")
        try:
            delete_source(self.settings.sources_dir, source)
        except SourceError as e:
            raise gr.Error(str(e)) from None
        return render.build_report_html(None, [f"Deleted {source}"])

    # -- layout -------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        s = self.settings
        with gr.Blocks(title="Briefing", analytics_enabled=False) as demo:
            gr.Markdown("## Briefing\nAsk about your sources. Every sentence of an answer cites the passage "
                        "it comes from; click a marker such as [1] to read it in context.")
            history = gr.State([])
            with gr.Tabs():
                with gr.Tab("Chat", id="chat"):
                    with gr.Row(equal_height=False):
                        with gr.Column(scale=3, min_width=340):
                            chatbot = gr.Chatbot(label="Conversation", height=480, render_markdown=False,
                                                 feedback_options=None, buttons=[], elem_id="chat",
                                                 placeholder="Answers appear here, each sentence with its source.")
                            question = gr.Textbox(label="Your question", placeholder="e.g. What did Ri Yong Ho demand?",
                                                  submit_btn="Ask", lines=1, max_lines=4, autofocus=True,
                                                  elem_id="question")
                            new_chat = gr.Button("New conversation", variant="secondary", size="sm")
                            with gr.Accordion("Filters", open=False):
                                f_sources = gr.Dropdown(label="Sources", multiselect=True, choices=[],
                                                        info="Only these files (none: all)")
                                f_publishers = gr.Dropdown(label="Publishers", multiselect=True, choices=[])
                                with gr.Row():
                                    f_since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", min_width=140)
                                    f_until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", min_width=140)
                                top_k = gr.Slider(1, 20, value=s.top_k, step=1, label="Passages to show")
                            with gr.Accordion("Answer as Markdown", open=False):
                                markdown = gr.Textbox(label="Last answer with its citations (Markdown)", lines=6,
                                                      interactive=False, buttons=["copy"], elem_id="answer-md")
                        with gr.Column(scale=2, min_width=320):
                            viewer = gr.HTML(render.EMPTY_VIEWER, label="Source viewer", elem_id="viewer",
                                             js_on_load=VIEWER_JS)
                with gr.Tab("Sources", id="sources"):
                    status = gr.HTML(elem_id="index-status")
                    table = gr.Dataframe(headers=_TABLE_HEADERS, label="Indexed documents", interactive=False,
                                         wrap=True, max_height=420, elem_id="documents")
                    with gr.Row(equal_height=False):
                        with gr.Column(min_width=300):
                            upload = gr.File(label=f"Add source files ({', '.join(SUPPORTED_SUFFIXES)}; "
                                                   f"up to {s.max_source_mb:g} MB each)",
                                             file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                                             elem_id="upload")
                            rebuild = gr.Button("Rebuild index", variant="primary", elem_id="rebuild")
                        with gr.Column(min_width=300):
                            to_delete = gr.Dropdown(label="Source file to delete", choices=[], elem_id="delete-choice")
                            delete = gr.Button("Delete file and rebuild", variant="stop", elem_id="delete")
                    build_log = gr.HTML(elem_id="build-log")

            view_outputs = [status, table, f_sources, f_publishers, to_delete]
            chat_io = dict(inputs=[question, chatbot, history, f_sources, f_publishers, f_since, f_until, top_k],
                           outputs=[question, chatbot, history, markdown])
            question.submit(self.respond, **chat_io, api_visibility="undocumented")
            new_chat.click(lambda: ("", [], [], "", render.EMPTY_VIEWER),
                           outputs=[question, chatbot, history, markdown, viewer], api_visibility="undocumented")
            chatbot.clear(lambda: ([], ""), outputs=[history, markdown], api_visibility="undocumented")
            viewer.click(self.open_citation, None, viewer, api_visibility="undocumented")
            demo.load(self.sources_view, None, view_outputs, api_visibility="undocumented")
            build = dict(outputs=[build_log, *view_outputs], concurrency_id="index", concurrency_limit=1,
                         api_visibility="undocumented")
            uploaded = gr.State({})
            upload.upload(self.save_files, upload, [uploaded, upload], api_visibility="undocumented").success(
                self.rebuild_after_upload, uploaded, **build)
            rebuild.click(self.rebuild, **build)
            delete.click(self.delete, to_delete, build_log, api_visibility="undocumented").success(self.rebuild, **build)
            gr.api(self.api_ask, api_name="ask")
        return demo


def _filters(sources, publishers, since, until) -> Filters:
    since = (since or "").strip() or None
    until = (until or "").strip() or None
    try:
        date_key(since)
        date_key(until)
    except BriefingError as e:
        raise gr.Error(str(e)) from None
    return Filters(sources=tuple(sources or ()), publishers=tuple(publishers or ()), since=since, until=until)


def build_app(settings: Settings) -> gr.Blocks:
    return WebApp(settings).build()


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          auth: list[tuple[str, str]] | None = None, ready: Callable[[str], None] = print) -> None:
    """Start the app and block until interrupted; ``ready(url)`` once it answers."""
    demo = WebApp(settings).build()
    demo.queue(default_concurrency_limit=4)
    try:
        demo.launch(server_name=host, server_port=port, share=False, auth=auth, show_error=True,
                    prevent_thread_lock=True, quiet=True, ssr_mode=False, inbrowser=False,
                    max_file_size=int(settings.max_source_mb * 1024 * 1024), footer_links=["api", "settings"],
                    auth_message="Briefing: sign in to continue." if auth else None, css=CSS)
    except OSError as e:
        raise BriefingError(f"cannot listen on {host}:{port} ({e}); choose another --port") from None
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
    ready(f"http://{shown}:{port}")
    try:
        demo.block_thread()
    finally:
        demo.close()
