"""Built-in skills, published through the ``assistant.skills`` entry points like any other."""
