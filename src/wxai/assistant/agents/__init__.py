"""Agents: programs that turn a request into verified actions on real data.

* :mod:`~wxai.assistant.agents.events`: the typed events every agent streams
  (node started and finished, tool called, tool result, error, message);
* :mod:`~wxai.assistant.agents.weather`: the weather workflow (time, place,
  variable, latest run, data, point value, map, answer) as a LangGraph graph;
* :mod:`~wxai.assistant.agents.sandbox` and :mod:`~wxai.assistant.agents.coder`:
  generated Python run in a bubblewrap sandbox, with a repair loop;
* :mod:`~wxai.assistant.agents.report`: planner, writer, impact translator and
  editor with a checker that is not a model;
* :mod:`~wxai.assistant.agents.external`: tools executed as HTTP POSTs to
  allow-listed services, SSRF-safe;
* :mod:`~wxai.assistant.agents.router`: one entry point that answers, calls a
  tool, runs a workflow or asks back.
"""
