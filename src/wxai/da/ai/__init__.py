"""Learned assimilation (needs torch): AI-Var (``aivar``), the AI particle filter
(``aipf``) and a graph network trained with a variational loss (``graph_da``)."""
