"""The Jinja2 templates of the generated C, installed as package data (``mipnn.templates``)."""
