"""The UI views, one module per area. Views are thin: access.py decides, lifecycle.py acts."""
