"""The ``dataspace-index`` task: a worker embeds an uploaded file into the shared index.

With the PostgreSQL retrieval backend and ``WXAI_RAG_INGEST`` at ``worker`` (the
default there), an upload only checks that the file can be read and queues one such
task per new version of the file. Any task worker, on any machine, then runs
:meth:`~wxai.cockpit.dataspaces.DataspaceStore.index_file`, which is idempotent per
version and writes nothing for a version that a newer upload replaced.

The task is internal: uploads create it for the uploader; ``POST /api/tasks`` refuses
it, so nobody can point it at another user's file.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from wxai.core.progress import ProgressReporter

#: The task type's name.
INDEX_TASK = "dataspace-index"


class IndexFileParams(BaseModel):
    """Which version of which file to index."""

    model_config = ConfigDict(extra="forbid")

    dataspace_id: str = Field(min_length=1, max_length=64)
    file_id: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="The version's SHA-256")
    name: str = Field(default="", max_length=200, description="The file's name, for messages")


def index_task_data(dataspace_id: str, file_id: str, sha256: str, name: str) -> dict[str, Any]:
    """The stored ``data`` of an index task (as ``POST /api/tasks`` would store it)."""
    params = IndexFileParams(dataspace_id=dataspace_id, file_id=file_id, sha256=sha256, name=name)
    return {"type": INDEX_TASK, "params": params.model_dump(mode="json")}


class DataspaceIndexTask:
    """Reads, chunks and embeds one uploaded file into the PostgreSQL index."""

    name: ClassVar[str] = INDEX_TASK
    params: ClassVar[type[BaseModel]] = IndexFileParams
    #: Started by the server (uploads), never by a client.
    internal: ClassVar[bool] = True

    def check(self, params: BaseModel) -> str:
        """Nothing to check before the work: the upload read the file already."""
        assert isinstance(params, IndexFileParams)
        return f"indexing {params.name or params.file_id} (version {params.sha256[:12]})"

    def execute(self, params: BaseModel, progress: ProgressReporter) -> dict[str, Any]:
        """Index the file with the deployment's own settings; the result names the outcome."""
        from wxai.cockpit.dataspaces import open_dataspaces
        from wxai.core.settings import get_settings

        assert isinstance(params, IndexFileParams)
        spaces = open_dataspaces(get_settings())
        try:
            result = spaces.index_file(
                params.dataspace_id, params.file_id, params.sha256, progress=progress
            )
        finally:
            spaces.close()
        progress(1.0, f"{result['file']}: {result['status']}, {result['chunks']} passages")
        return result
