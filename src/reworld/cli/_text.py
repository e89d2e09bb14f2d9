"""Plain-text renderings of library results for the terminal."""

from __future__ import annotations

from typing import Any


def _fmt_rate(r: str | None) -> str:
    if not r:
        return "?"
    num, _, den = str(r).partition("/")
    value = float(num) / float(den or 1)
    return f"{value:.3f}".rstrip("0").rstrip(".") + (f" ({r})" if den not in ("", "1") else "")


def probe_text(report: dict[str, Any]) -> str:
    """The `reworld probe` report: facts first, then quality measures and advice."""
    f = report["facts"]
    v, a = f.get("video"), f.get("audio")
    lines = [f"{f['path']}"]
    lines.append(f"  container   {f['container']}, {f['size_bytes'] / 1e6:.2f} MB"
                 + (f", {f['bit_rate'] / 1e3:.0f} kb/s" if f.get("bit_rate") else ""))
    if v:
        c = v["color"]
        lines += [
            f"  video       {v['codec']}" + (f" ({v['profile']})" if v.get("profile") else "")
            + f", {v['pix_fmt']}, {v['bit_depth']}-bit"
            + (f", {v['bit_rate'] / 1e3:.0f} kb/s" if v.get("bit_rate") else ""),
            f"  size        {v['width']}x{v['height']}"
            + (f" (stored {v['coded_width']}x{v['coded_height']}, rotation {v['rotation']}°)" if v["rotation"] else ""),
        ]
        if f.get("is_image") or v["frames"] == 1:
            lines.append("  frames      1 (a still image)")
        else:
            lines += [
                f"  frame rate  {_fmt_rate(v['fps'])} fps, {'variable (VFR)' if v['is_vfr'] else 'constant'}",
                f"  frames      {v['frames']}, duration {v['duration']:.3f} s (starts at {v['start_time']:.3f} s)",
            ]
        lines += [
            f"  colour      primaries {c['primaries'] or 'unspecified'}, transfer {c['transfer'] or 'unspecified'}, "
            f"matrix {c['matrix'] or 'unspecified'}, range {c['range'] or 'unspecified'}",
        ]
    lines.append(f"  audio       {a['codec']}, {a['sample_rate']} Hz, {a['channels']} ch" if a else "  audio       none")
    q = report.get("quality")
    if q:
        def num(x, fmt=".1f"):
            return "n/a" if x is None else format(x, fmt)

        still = f.get("is_image") or (v and v["frames"] == 1)
        lines += [
            "  quality     measured on the image" if still else
            f"  quality     {q['n_samples']} runs of consecutive frames sampled",
            f"    sharpness {num(q['sharpness'])} (Laplacian var. at 512 px)   noise σ {num(q['noise_sigma'], '.2f')} levels",
            f"    luma      mean {num(q['mean_luma'])}, p1 {num(q['luma_p1'], '.0f')}, p99 {num(q['luma_p99'], '.0f')}; "
            f"clipped high {num(q['clip_high'], '.1%') if q['clip_high'] is not None else 'n/a'}, "
            f"low {num(q['clip_low'], '.1%') if q['clip_low'] is not None else 'n/a'}",
        ]
        if not still:
            lines.append(f"    camera    speed {num(q['motion'], '.2f')} ‰ of the diagonal per frame, "
                         f"jerk {num(q.get('jerk'), '.2f')} ‰/frame²")
        advice = q.get("advice") or []
        if advice:
            lines.append("  advice")
            for item in advice:
                lines.append(f"    [{item['severity']}] {item['code']}: {item['message']}")
        else:
            lines.append("  advice      none: the clip looks fine for reworld")
    return "\n".join(lines)
