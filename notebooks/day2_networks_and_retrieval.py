# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Day 2: network architectures, language models and retrieval
#
# The second course day with `wxai`:
#
# 1. **Architectures** (unit U3): a convolutional network forecasts moving blobs one step
#    ahead (`blob-forecast-cnn`); message passing on a ring learns transport
#    (`gnn-ring-advection`).
# 2. **Language models** (unit U4): a tiny transformer learns to complete a sentence
#    (`tiny-transformer`).
# 3. **Retrieval** (unit U5): sentence embeddings find paraphrases (`vector-db-elementary`),
#    then a retrieval store indexes wxai's own guides and answers searches with citations.
#
# Everything runs offline: the embedding model (MiniLM) is shipped as a Python package.

# %% tags=["parameters"]
# SMOKE = True: the small "smoke" presets (seconds); False: the "full" presets (minutes).
SMOKE = True

# %%
from wxai.core.paths import home_dir
from wxai.labs.framework.runner import run_lab
from wxai.labs.notebooks import notebooks_dir, preset_override, show_result

PRESET = preset_override(SMOKE)
WORK = home_dir() / "notebooks" / "day2"
print("lab preset:", PRESET, "| files of this notebook go to", WORK)

# %% [markdown]
# ## 1. Convolutional and graph networks
#
# Both labs compare the network with persistence (tomorrow = today): a forecast that
# does not beat it has learned nothing.

# %%
show_result(run_lab("blob-forecast-cnn", [PRESET]))

# %%
show_result(run_lab("gnn-ring-advection", [PRESET]))

# %% [markdown]
# ## 2. A transformer from scratch
#
# Token and position embeddings, causal self-attention, next-token prediction; the
# attention maps show which earlier tokens each position looks at.

# %%
show_result(run_lab("tiny-transformer", [PRESET]))

# %% [markdown]
# ## 3. Retrieval
#
# `vector-db-elementary` embeds twenty sentences and finds each one from a paraphrase
# that shares few of its words.

# %%
show_result(run_lab("vector-db-elementary", [PRESET]))

# %% [markdown]
# `RagStore` is the store behind `wxai rag index` and `wxai rag search`: it chunks
# documents by heading, embeds the chunks, and ranks them by BM25 and by cosine
# similarity fused by reciprocal rank. Here it indexes three of wxai's guides.

# %%
from wxai.assistant.rag import RagStore

guides = notebooks_dir().parent / "docs"
store = RagStore.open(WORK / "rag-store")
report = store.add([guides / "grib.md", guides / "data-assimilation.md", guides / "emulator.md"])
print(report.summary())

# %%
for question in [
    "how are DWD's local GRIB tables found by ecCodes?",
    "which filter is compared with DAPPER on Lorenz-96?",
]:
    print("Q:", question)
    for hit in store.search(question, k=2):
        print(f"  {hit.chunk.citation}  fused={hit.score:.4f}  cosine={hit.vector_score:.3f}")

# %% [markdown]
# ## Next
#
# - `wxai rag index docs/ --store course` and `wxai rag ask "..." --store course` do the
#   same from the shell, with a local language model writing the cited answer
#   (lab `rag-answer`, about a minute on a laptop CPU).
# - Day 3: agents, generative models and weather products.
