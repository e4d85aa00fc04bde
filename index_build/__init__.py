"""index_build: read → clean → chunk → embed → store; incremental; watch."""

from .build import BuildReport, build_index
from .core.errors import BriefingError, IndexMismatchError, SourceError
from .core.models import Chunk, Document
from .core.settings import Settings, load_settings

__all__ = ["BuildReport", "build_index", "BriefingError", "IndexMismatchError", "SourceError",
           "Chunk", "Document", "Settings", "load_settings"]
