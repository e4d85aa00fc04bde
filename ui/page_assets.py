"""The web page's own CSS and script.

The script does one job: citation links live inside chat messages (rendered by the chat's
HTML sanitizer, which keeps ``href`` but not ``data-*``), so one capturing click listener on
the document sends a click on any ``#cite:doc_id:start:end`` link to the source viewer's
"click" event, and scrolls the highlighted span into view when the viewer changes.
"""

from __future__ import annotations

__all__ = ["CSS", "VIEWER_JS"]

# Runs as the viewer's js_on_load (gradio gives it element, trigger, props, watch).
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
#build-log .build-errors, #build-log .build-errors * { color: #b91c1c; }
.dark #build-log .build-errors, .dark #build-log .build-errors * { color: #fca5a5; }
.hint, .prose .hint { font-size: .9em; color: var(--body-text-color); margin: .2em 0; }
.index-status { margin: .2em 0; overflow-wrap: anywhere; }
/* Phones: the viewer sits below the chat and grows with the article; the page scrolls. */
@media (max-width: 720px) { #viewer { max-height: none; overflow: visible !important; }
  #viewer .source-head { position: static; } }
"""
