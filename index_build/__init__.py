"""index_build: read → clean → chunk → embed → store; incremental; watch."""

from .build import BuildReport, build_index
from .errors import BriefingError, IndexMismatchError, SourceError
from .models import Chunk, Document
from .settings import Settings, load_settings

__all__ = ["BuildReport", "build_index", "BriefingError", "IndexMismatchError", "SourceError",
           "Chunk", "Document", "Settings", "load_settings"]
