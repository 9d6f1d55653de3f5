"""Event volume per day for sparklines and the issue chart (the digest's counts, models/volume.py),
and the SVG for them (no JS needed)."""

from django.utils.safestring import mark_safe

from bugsink_issues.models.volume import daily_counts

__all__ = ["daily_counts", "sparkline_svg"]


def sparkline_svg(counts, width=80, height=18, css_class="spark"):
    """Bars as inline SVG. Built from our own numbers only (ints and floats we format, and a fixed
    class name), never from payload data, so it is marked safe without escaping; format_html
    per bar was the issue list's biggest cost."""
    counts = [int(c) for c in counts]
    top = max(counts) if counts and max(counts) else 1
    step = width / max(len(counts), 1)
    bar_width = max(step - 1, 1)
    bars = []
    for i, c in enumerate(counts):
        h = max(1.0, height * c / top) if c else 0.5
        bars.append(
            f'<rect x="{i * step:.1f}" y="{height - h:.1f}" width="{bar_width:.1f}" '
            f'height="{h:.1f}"><title>{c}</title></rect>'
        )
    label = f"{sum(counts)} events in {len(counts)} days"
    css_class = css_class if css_class in ("spark", "chart") else "spark"
    return mark_safe(
        f'<svg class="{css_class}" width="{int(width)}" height="{int(height)}" '
        f'viewBox="0 0 {int(width)} {int(height)}" role="img" aria-label="{label}">{"".join(bars)}</svg>'
    )
