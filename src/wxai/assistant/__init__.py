"""Assistant layer: language models, retrieval and agents built on the science code."""
