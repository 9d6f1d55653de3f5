"""The UI views, one module per area. Views are thin: ui/access.py decides, lifecycle/ acts."""
