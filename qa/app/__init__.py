"""The chat's parts (``app.py`` at the project root is the entry point and stays thin): a
conversation and its follow-ups (chat), answers as safe HTML (render), uploads, the guard in front
of every route and the logins, the JSON API, and taking an answer away (export)."""
