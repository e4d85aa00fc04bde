"""The web page's own CSS and script.

The script's main job: citation links live inside chat messages (rendered by the chat's
HTML sanitizer, which keeps ``href`` but not ``data-*``), so one capturing click listener on
the document sends a click on any ``#cite:doc_id:start:end`` link to the source viewer's
"click" event, and scrolls the highlighted span into view when the viewer changes. It also
takes "Back to the answer" in the viewer back to the link that opened it, and scrolls a long
finished answer back to its first line.
"""

from __future__ import annotations

__all__ = ["CSS", "VIEWER_JS", "MEMO_VIEWER_JS"]

# Runs as a viewer's js_on_load (gradio gives it element, trigger, props, watch). Each
# viewer registers its opener by id; a citation link opens in the viewer of its own tab
# (links inside #memo-preview open in #memo-viewer, all others in #viewer).
_VIEWER_JS = """
window.__briefingOpeners = window.__briefingOpeners || {};
window.__briefingOpeners['@ID@'] = (ref) => trigger('click', {cite: ref});
window.__briefingOpen = (ref, panel) =>
  (window.__briefingOpeners[panel] || window.__briefingOpeners['viewer'] || (() => {}))(ref);
if (!window.__briefingCites) {
  window.__briefingCites = true;
  document.addEventListener('click', (ev) => {
    const a = ev.target && ev.target.closest ? ev.target.closest('a.cite, a[href^="#cite:"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const ref = (a.getAttribute('href') || '').replace(/^#cite:/, '');
    const panel = a.closest('#memo-preview') ? 'memo-viewer' : 'viewer';
    window.__briefingFrom[panel] = a;  // where "Back to the answer" returns to
    window.__briefingOpen(ref, panel);
  }, true);
  // "Back to the answer" (shown on phones, where the viewer sits below the chat): to the
  // link that opened the article, or the last answer if that one is gone.
  window.__briefingFrom = {};
  document.addEventListener('click', (ev) => {
    const back = ev.target && ev.target.closest ? ev.target.closest('a.back-to-answer') : null;
    if (!back) return;
    ev.preventDefault();
    ev.stopPropagation();
    const panel = back.closest('#memo-viewer') ? 'memo-viewer' : 'viewer';
    let to = window.__briefingFrom[panel];
    if (!to || !to.isConnected) {
      const all = document.querySelectorAll(panel === 'viewer' ? '#chat .answer' : '#memo-preview .memo');
      to = all[all.length - 1];
    }
    if (!to) return;
    to.scrollIntoView({block: 'center'});
    if (to.focus) to.focus({preventScroll: true});
  }, true);
  // A finished answer taller than the chat would show only its end (the chat scrolls to
  // the bottom): scroll back to its first line, where the statement (or the abstention) is.
  let seen = 0;
  new MutationObserver(() => {
    const box = document.querySelector('#chat .bubble-wrap');
    if (!box) return;
    const done = box.querySelectorAll('.answer:not(.streaming)');
    if (done.length === seen) return;
    seen = done.length;
    const last = done[done.length - 1];
    if (!last) return;
    setTimeout(() => {  // after the chat's own scroll to the bottom
      const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
      if (top < box.scrollTop) box.scrollTo({top: Math.max(0, top - 8)});
    }, 120);
  }).observe(document.getElementById('chat') || document.body, {childList: true, subtree: true});
}
// Scroll the cited span into view: inside the panel when it scrolls (wide screens),
// else in the page (phones, where the panel sits below the chat).
watch('value', () => setTimeout(() => {
  const m = element.querySelector('mark#cited');
  const box = document.getElementById('@ID@');
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
VIEWER_JS = _VIEWER_JS.replace("@ID@", "viewer")
MEMO_VIEWER_JS = _VIEWER_JS.replace("@ID@", "memo-viewer")

CSS = """
/* The theme's SemiBold (600) Source Sans Pro file holds two letters (A, B), so a 600-weight
   heading drew its capital in that face and the rest in a fallback: bold text uses the full
   Bold file instead. */
@font-face { font-family: 'Source Sans Pro'; font-weight: 600;  font-style: normal;
  src: url('static/fonts/SourceSansPro/SourceSansPro-Bold.woff2') format('woff2'); }
/* The chat's "Conversation" label floated over the messages as they scrolled: it gets a row
   of its own above them. */
#chat > .wrapper { display: flex; flex-direction: column; }
#chat > .wrapper > label.float { position: static; align-self: flex-start; flex: none; }
#chat .bubble-wrap { flex: 1 1 auto; min-height: 0; height: auto; }
#chat-notice:not(:has(.notice)) { display: none !important; }  /* no gap while there is nothing to say */
#chat-notice .notice, #memo-status .notice { color: #b91c1c; font-weight: 600; margin: .3em 0; }
.dark #chat-notice .notice, .dark #memo-status .notice { color: #fca5a5; }
.answer .filter-note { font-size: .92em; margin: .3em 0; padding: .2em .5em;
                      border-left: 3px solid var(--color-accent); }
/* Progress: drawn at the width it states (the default 150 ms tween lags behind quick steps). */
[role=progressbar] > .progress-bar { transition: none !important; }
#memo-status { margin-bottom: .4em; }
#memo-status .memo-done { margin: .2em 0; }
.index-detail { font-size: .85em; color: var(--body-text-color); opacity: .8; margin: 0 0 .2em 0;
                overflow-wrap: anywhere; }
.back-to-answer { display: none; }
.answer p { margin: 0 0 .4em 0; }
.answer .abstain { font-style: italic; }
.answer-sources { font-size: .92em; margin-top: .5em; padding-top: .4em;
  border-top: 1px solid var(--border-color-primary); }
.answer-sources p { font-weight: 600; margin: 0 0 .2em 0; }
.answer-sources ul, .answer-sources ol { margin: 0; padding-left: 1.2em; }
.answer-sources .snippet { color: var(--body-text-color); font-size: .95em; }
a.cite { font-weight: 600; text-decoration: underline; cursor: pointer; padding: 0 .1em; }
a.cite.passage { font-weight: 500; }
a.cite:focus-visible, :is(#viewer, #memo-viewer):focus-visible {
  outline: 3px solid var(--color-accent); outline-offset: 2px; }
*:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
:is(#viewer, #memo-viewer) { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  padding: .8em 1em; max-height: 78vh; overflow-y: auto !important; background: var(--background-fill-primary); }
:is(#viewer, #memo-viewer) .source-head { position: sticky; top: -.8em; background: var(--background-fill-primary);
  padding: .4em 0 .3em 0; border-bottom: 1px solid var(--border-color-primary); margin-bottom: .5em; }
:is(#viewer, #memo-viewer) .source-title { margin: 0 0 .3em 0; }
:is(#viewer, #memo-viewer) .meta { color: var(--body-text-color); opacity: .8; margin: 0 0 .3em 0;
                                   overflow-wrap: anywhere; }
:is(#viewer, #memo-viewer) .cited-note { font-size: .9em; margin: 0 0 .6em 0; }
:is(#viewer, #memo-viewer) .article-body { white-space: pre-wrap; line-height: 1.55; overflow-wrap: anywhere; }
:is(#viewer, #memo-viewer) mark#cited { background: #ffe066; color: #111; padding: .05em .1em; border-radius: 2px;
  scroll-margin: 8em; }
#build-log .build-errors, #build-log .build-errors * { color: #b91c1c; }
.dark #build-log .build-errors, .dark #build-log .build-errors * { color: #fca5a5; }
#memo-preview .memo h1 { font-size: 1.4em; margin: 0 0 .2em 0; }
#memo-preview .memo h2 { font-size: 1.15em; margin: .9em 0 .3em 0; }
#memo-preview .memo h3 { font-size: 1em; margin: .5em 0 .2em 0; }
#memo-preview .memo .meta, #memo-preview .memo .where, #memo-preview .memo .note {
  color: var(--body-text-color); opacity: .8; }  /* (the theme's subdued grey is too faint to read: < 3:1) */
#memo-preview .memo ul, #memo-preview .memo ol { padding-left: 1.3em; }
#memo-preview .memo .label { font-weight: 600; }
#memo-preview .memo blockquote { margin: .2em 0; font-style: italic; }
#memo-preview sup.cite a.cite { font-weight: 600; }
.hint, .prose .hint { font-size: .9em; color: var(--body-text-color); margin: .2em 0; }
.index-status { margin: .2em 0; overflow-wrap: anywhere; }
/* The page's container hides its overflow, which pins a sticky element (the viewer's title
   on phones) to it instead of to the screen; clip cuts the same without being a scroll
   container. (Outside the media query: gradio scopes rules inside one under .contain.) */
.gradio-container { overflow: clip !important; }
/* Phones: the viewer sits below the chat and grows with the article; the page scrolls, the
   article's title stays at the top of the screen with a way back to the answer. */
@media (max-width: 720px) { :is(#viewer, #memo-viewer) { max-height: none; overflow: visible !important; }
  :is(#viewer, #memo-viewer) .source-head { top: 0; z-index: 5; }
  :is(#viewer, #memo-viewer) .source-title { font-size: 1.05em; }
  .back-to-answer { display: inline-block; font-weight: 600; margin: 0 0 .3em 0; padding: .35em .7em;
    border: 1px solid var(--border-color-primary); border-radius: var(--radius-md); text-decoration: none; } }
"""
