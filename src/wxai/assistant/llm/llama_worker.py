"""The child process that hosts the embedded model: llama.cpp's server via :mod:`xllamacpp`.

Run as ``python -m wxai.assistant.llm.llama_worker GGUF CONTEXT THREADS`` by
:func:`wxai.assistant.llm.local.load_engine`, with the API key in the environment
variable ``WXAI_LLAMA_API_KEY``. It loads the model, prints one JSON line
``{"url": "http://127.0.0.1:PORT"}`` on stdout and serves llama.cpp's
OpenAI-compatible HTTP API until its stdin closes, which happens when the parent
process exits, however it exits.

The model runs in its own process because native libraries do not mix: the
``xllamacpp`` wheel and the NetCDF wheels (``netCDF4``, ``cftime``) share Cython
type names with different layouts, and loading ``xllamacpp`` after ecCodes aborts
with ``std::bad_alloc``. This module imports nothing but the standard library and
``xllamacpp``.
"""

from __future__ import annotations

import json
import os
import sys

API_KEY_ENV = "WXAI_LLAMA_API_KEY"


def main(argv: list[str]) -> int:
    """Load the model, announce the URL, serve until stdin closes; return the exit code."""
    if len(argv) != 3:
        print("usage: python -m wxai.assistant.llm.llama_worker GGUF CTX THREADS", file=sys.stderr)
        return 2
    path, context, threads = argv[0], int(argv[1]), int(argv[2])
    # Keep stdout for the one announcement; anything the library prints goes to stderr.
    announce = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = path
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = 0
    params.api_keys = [os.environ[API_KEY_ENV]]
    server = xllamacpp.Server(params)
    announce.write(json.dumps({"url": str(server.listening_address)}) + "\n")
    announce.close()
    sys.stdin.read()  # returns at EOF: the parent closed the pipe or is gone
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
