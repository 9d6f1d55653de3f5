"""django-snappea: a Django Tasks backend on SQLite, and the foreman that runs its tasks."""
