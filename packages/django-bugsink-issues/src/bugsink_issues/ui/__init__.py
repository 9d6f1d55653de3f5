"""The web UI: views, forms, the access policy's HTTP side, and what the pages show."""
