"""The page: three tabs (Chat, Memo, Sources) in Gradio Blocks, and which handler of the
``WebApp`` each event calls. Built by ``WebApp.build``; the handlers and their checks are
``ui.web``'s and ``ui.forms``'s."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import gradio as gr

from index_build.core.settings import Settings
from index_build.read import SUPPORTED_SUFFIXES

from . import render
from .forms import filters_label
from .page_assets import MEMO_VIEWER_JS, VIEWER_JS

if TYPE_CHECKING:
    from .web import WebApp

__all__ = ["build_blocks", "DATE_HINT"]

DATE_HINT = "YYYY-MM-DD"
_TABLE_HEADERS = ["File", "Headline", "Publisher", "Author", "Published", "Characters", "Passages"]
# Widths that fit all seven columns in the page at 1400 px (the headline wraps instead of
# pushing the rest off). Pixels, not percentages: on a phone the table scrolls sideways with
# readable columns rather than squeezing each into a letter-wide strip.
_TABLE_WIDTHS: list[str | int] = [200, 370, 150, 140, 110, 105, 95]


def build_blocks(app: WebApp) -> gr.Blocks:
    demo = gr.Blocks(title="Briefing", analytics_enabled=False)
    with demo:
        gr.Markdown("## Briefing\nAsk about your sources. Every sentence of an answer cites the passage "
                    "it comes from; click a marker such as [1] to read it in context.")
        history = gr.State([])
        with gr.Tabs():
            chat = _chat_tab(app.settings)
            memo = _memo_tab()
            src = _sources_tab(app.settings)
        _wire(app, demo, history, chat, memo, src)
    return demo


def _filter_fields(elem_id: str) -> tuple[gr.Accordion, gr.Dropdown, gr.Dropdown, gr.Textbox, gr.Textbox]:
    """The Filters section the Chat and the Memo tab each have: sources, publishers, a date range."""
    with gr.Accordion("Filters", open=False, elem_id=elem_id) as box:
        sources = gr.Dropdown(label="Sources", multiselect=True, choices=[], info="Only these files (none: all)")
        publishers = gr.Dropdown(label="Publishers", multiselect=True, choices=[])
        with gr.Row():
            since = gr.Textbox(label="Published since", placeholder=DATE_HINT, min_width=140)
            until = gr.Textbox(label="Published until", placeholder=DATE_HINT, min_width=140)
    return box, sources, publishers, since, until


def _chat_tab(s: Settings) -> SimpleNamespace:
    """The Chat tab: conversation, question, filters, the answer as Markdown, the source viewer."""
    with gr.Tab("Chat", id="chat"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chatbot = gr.Chatbot(label="Conversation", height=480, render_markdown=False,
                                     feedback_options=None, buttons=[], elem_id="chat",
                                     placeholder="Answers appear here, each sentence with its source.")
                question = gr.Textbox(label="Your question", placeholder="e.g. What did Ri Yong Ho demand?",
                                      submit_btn="Ask", lines=1, max_lines=4, autofocus=True,
                                      elem_id="question")
                notice = gr.HTML("", elem_id="chat-notice", padding=False)
                new_chat = gr.Button("New conversation", variant="secondary", size="sm")
                f_box, f_sources, f_publishers, f_since, f_until = _filter_fields("chat-filters")
                with f_box:
                    top_k = gr.Slider(1, 20, value=s.top_k, step=1, label="Passages to show")
                with gr.Accordion("Answer as Markdown", open=False):
                    markdown = gr.Textbox(label="Last answer with its citations (Markdown)", lines=6,
                                          interactive=False, buttons=["copy"], elem_id="answer-md")
            with gr.Column(scale=2, min_width=320):
                viewer = gr.HTML(render.EMPTY_VIEWER, label="Source viewer", elem_id="viewer",
                                 js_on_load=VIEWER_JS)
    return SimpleNamespace(chatbot=chatbot, question=question, notice=notice, new_chat=new_chat, f_box=f_box,
                           f_sources=f_sources, f_publishers=f_publishers, f_since=f_since, f_until=f_until,
                           top_k=top_k, markdown=markdown, viewer=viewer)


def _memo_tab() -> SimpleNamespace:
    """The Memo tab: topic, filters, options, progress, downloads, the memo and its viewer."""
    with gr.Tab("Memo", id="memo"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                memo_topic = gr.Textbox(label="Memo topic", lines=1, max_lines=2, elem_id="memo-topic",
                                        placeholder="e.g. Russia and the North Korea sanctions")
                m_box, m_sources, m_publishers, m_since, m_until = _filter_fields("memo-filters")
                with gr.Accordion("Options", open=False, elem_id="memo-options"):
                    m_long = gr.Checkbox(label="Long memo (no length budget)", value=False,
                                         elem_id="memo-long",
                                         info="By default a memo has at most a quarter of the words "
                                              "of the documents it cites.")
                    m_earlier = gr.File(label="What's new since an earlier memo (.md, .docx, .html, .json)",
                                        file_types=[".md", ".docx", ".html", ".json"], type="filepath",
                                        elem_id="memo-since")
                write = gr.Button("Write memo", variant="primary", elem_id="write-memo")
                # Progress shows here, in a place of its own, not over the placeholder text.
                memo_status = gr.HTML("", elem_id="memo-status", padding=False, min_height=76)
                memo_files = gr.File(label="Download the memo (.md, .docx, .html)", file_count="multiple",
                                     interactive=False, elem_id="memo-files", visible=False)
                memo_preview = gr.HTML(render.EMPTY_MEMO, label="Memo", elem_id="memo-preview",
                                       min_height=80)
            with gr.Column(scale=2, min_width=320):
                memo_viewer = gr.HTML(render.EMPTY_VIEWER, label="Source viewer", elem_id="memo-viewer",
                                      js_on_load=MEMO_VIEWER_JS)
    return SimpleNamespace(memo_topic=memo_topic, m_box=m_box, m_sources=m_sources, m_publishers=m_publishers,
                           m_since=m_since, m_until=m_until, m_long=m_long, m_earlier=m_earlier, write=write,
                           memo_status=memo_status, memo_files=memo_files, memo_preview=memo_preview,
                           memo_viewer=memo_viewer)


def _sources_tab(s: Settings) -> SimpleNamespace:
    """The Sources tab: status, uploads, rebuild, delete, the documents table."""
    with gr.Tab("Sources", id="sources"):
        status = gr.HTML(elem_id="index-status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                upload = gr.File(label=f"Add source files (up to {s.max_source_mb:g} MB each)",
                                 file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                                 height=170, elem_id="upload")
                gr.HTML(f'<p class="hint">Accepted: {", ".join(SUPPORTED_SUFFIXES)}. '
                        "The index rebuilds after each upload or deletion.</p>")
            with gr.Column(scale=2, min_width=260):
                rebuild = gr.Button("Rebuild index", variant="primary", elem_id="rebuild")
                to_delete = gr.Dropdown(label="Source file to delete", choices=[], elem_id="delete-choice")
                delete = gr.Button("Delete file and rebuild", variant="stop", size="sm", elem_id="delete")
        build_log = gr.HTML('<p class="hint">Rebuild results and files that could not be indexed '
                            "appear here.</p>", min_height=60, elem_id="build-log")
        table = gr.Dataframe(headers=_TABLE_HEADERS, label="Indexed documents", interactive=False,
                             wrap=True, max_height=420, elem_id="documents",
                             column_widths=_TABLE_WIDTHS)

    return SimpleNamespace(status=status, upload=upload, rebuild=rebuild, to_delete=to_delete, delete=delete,
                           build_log=build_log, table=table)


def _wire(app: WebApp, demo: gr.Blocks, history: gr.State, chat: SimpleNamespace, memo: SimpleNamespace,
          src: SimpleNamespace) -> None:
    """Which handler each event calls, with which inputs and outputs."""
    quiet: dict[str, Any] = {"api_visibility": "undocumented"}
    view_outputs = [src.status, src.table, chat.f_sources, chat.f_publishers, src.to_delete, memo.m_sources,
                    memo.m_publishers]
    chat_filters = [chat.f_sources, chat.f_publishers, chat.f_since, chat.f_until]
    memo_filters = [memo.m_sources, memo.m_publishers, memo.m_since, memo.m_until]
    chat_io = dict(inputs=[chat.question, chat.chatbot, history, *chat_filters, chat.top_k],
                   outputs=[chat.question, chat.chatbot, history, chat.markdown, chat.notice])
    chat.question.submit(app.respond, **chat_io, **quiet)
    chat.new_chat.click(lambda: ("", [], [], "", render.EMPTY_VIEWER, ""),
                        outputs=[chat.question, chat.chatbot, history, chat.markdown, chat.viewer, chat.notice],
                        **quiet)
    for box, inputs in ((chat.f_box, chat_filters), (memo.m_box, memo_filters)):
        for field in inputs:
            field.change(lambda *v: gr.update(label=filters_label(*v)), inputs, box, queue=False,
                         show_progress="hidden", **quiet)
    chat.chatbot.clear(lambda: ([], ""), outputs=[history, chat.markdown], **quiet)
    chat.viewer.click(app.open_citation, None, chat.viewer, show_progress="minimal", **quiet)
    memo_io = dict(inputs=[memo.memo_topic, *memo_filters, memo.m_long, memo.m_earlier],
                   outputs=[memo.memo_status, memo.memo_preview, memo.memo_files, memo.memo_viewer],
                   show_progress_on=[memo.memo_status], concurrency_id="memo", **quiet)
    memo.memo_topic.submit(app.memo, **memo_io)
    memo.write.click(app.memo, **memo_io)
    memo.memo_viewer.click(app.open_citation, None, memo.memo_viewer, show_progress="minimal", **quiet)
    demo.load(app.sources_view, None, view_outputs, **quiet)
    build = dict(outputs=[src.build_log, *view_outputs], show_progress_on=[src.build_log], concurrency_id="index",
                 concurrency_limit=1, **quiet)
    changed = gr.State({})
    src.upload.upload(app.save_files, src.upload, [changed, src.upload], **quiet).success(
        app.rebuild_after_change, changed, **build)
    src.rebuild.click(app.rebuild, **build)
    src.delete.click(app.delete, src.to_delete, changed, **quiet).success(app.rebuild_after_change, changed, **build)
    gr.api(app.api_ask, api_name="ask")  # type: ignore[attr-defined]  # (gradio does not list it in __all__)
