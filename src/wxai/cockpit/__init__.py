"""The cockpit: a FastAPI server with the task API, the labs API and the home page.

Build the app with :func:`wxai.cockpit.app.create_app`; ``wxai serve`` runs it
under uvicorn. Nothing in wxai imports this package (it is a top layer).
"""
