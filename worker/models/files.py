"""This worker's disk cache of stored model files: fetched from the model file store the first
time a job needs one, checked against its SHA-256, written under a temporary name and renamed, and
kept (a file's digest is its name, so a cached file never goes stale)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.errors import ModelUnavailable
from core.store.files import MissingFile, ModelFiles, digest_of


class LocalFiles:
    def __init__(self, store: ModelFiles, directory: Path):
        self.store = store
        self.directory = directory

    def cached(self, digest: str, suffix: str = ".keras") -> Path:
        return self.directory / f"{digest}{suffix}"

    def path(self, digest: str, legacy_file: str | None = None, suffix: str = ".keras") -> Path:
        """The file with this digest on this worker's disk, fetched first if need be, named with
        `suffix` (Keras reads a file by its extension). `legacy_file`: where an upload made before
        files were stored lies on disk; it is stored from there."""
        target = self.cached(digest, suffix)
        if target.exists():
            if legacy_file and not self.store.exists(digest):
                self.store.put(target.read_bytes())  # for the workers that have no copy
            return target
        try:
            data = self.store.get(digest)
        except MissingFile:
            data = self.adopt(digest, legacy_file)
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=self.directory, prefix=f".{digest[:16]}.", suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
        return target

    def adopt(self, digest: str, legacy_file: str | None) -> bytes:
        if legacy_file and Path(legacy_file).is_file():
            data = Path(legacy_file).read_bytes()
            if digest_of(data) == digest:
                self.store.put(data)
                return data
        raise ModelUnavailable(f"the model file {digest[:16]}… is not in the model store (deleted, or the store was "
                               "emptied); upload the model again")

    def drop(self, digest: str) -> None:
        """Forget a file here and in the store (a rejected upload is not kept)."""
        self.cached(digest).unlink(missing_ok=True)
        self.store.delete(digest)
