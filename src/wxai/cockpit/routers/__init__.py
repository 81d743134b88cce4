"""One router per resource: health, tasks, labs, and the HTML pages."""
