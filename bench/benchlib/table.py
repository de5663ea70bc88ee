"""The plain-text table both benchmarks print."""


def render(header, rows):
    """Columns padded to their widest cell, a rule under the header."""
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = []
    for i, r in enumerate([header] + rows):
        lines.append(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)
