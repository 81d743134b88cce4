"""Agents: programs that turn a request into verified actions on real data.

* :mod:`~wxai.assistant.agents.events`: the typed events every agent streams
  (node started and finished, tool called, tool result, error, message);
* :mod:`~wxai.assistant.agents.weather`: the weather workflow (time, place,
  variable, latest run, data, point value, map, answer) as a LangGraph graph;
* :mod:`~wxai.assistant.agents.sandbox` (with ``sandbox_outcome`` and
  ``sandbox_probes``) and :mod:`~wxai.assistant.agents.coder` (tasks in
  ``coding_tasks``): generated Python run in a bubblewrap sandbox, with a repair
  loop;
* :mod:`~wxai.assistant.agents.report` (with ``report_plan``, ``report_check``
  and ``report_assembly``): planner, writer, impact translator and editor with
  a checker that is not a model;
* :mod:`~wxai.assistant.agents.external`: tools executed as HTTP POSTs to
  allow-listed services through :mod:`~wxai.assistant.agents.outbound` (the
  SSRF rules) and :mod:`~wxai.assistant.agents.outbound_http`;
* :mod:`~wxai.assistant.agents.router`: one entry point that answers, calls a
  tool, runs a workflow or asks back.
"""
