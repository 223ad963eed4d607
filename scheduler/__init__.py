"""APScheduler wiring and jobs; jobs call the same services as live chat."""
