"""The process's offline set-up: environment defaults that keep the libraries Briefing loads
off the network and quiet.

Models come inside pip packages; no library may reach for a hub, send telemetry or show its
own progress bars. Called where it is needed — the command line's entry point, the web app
before it imports Gradio, and every loader before it imports a model library (so a program
that uses ``index_build`` directly gets the same) — never as a side effect of an import.
``setdefault``: a variable the user set wins; Gradio's two are forced (see ``offline``).
"""

from __future__ import annotations

import os

__all__ = ["offline", "OFFLINE", "GRADIO"]

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma's
}
# Before gradio is imported: no usage analytics, no version check, and no run history —
# Gradio 6 can upload every run (question and answer) to a Hugging Face bucket named by a
# request header, with the token saved on this machine (no outbound network, ever).
GRADIO = {"GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_RUN_HISTORY": "False"}


def offline(gradio: bool = False) -> None:
    """Set the defaults above (and, with ``gradio``, force Gradio's)."""
    for key, value in OFFLINE.items():
        os.environ.setdefault(key, value)
    if gradio:
        os.environ.update(GRADIO)
