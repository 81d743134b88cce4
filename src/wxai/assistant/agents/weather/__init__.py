"""The weather workflow: a forecast question answered from open data, step by step."""
