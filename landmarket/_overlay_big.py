"""Compiled pair kinds of a small convex polygon g against a large polygon P (with holes).

The prepared-geometry predicates GEOS offers (intersects, covers, touches) cost microseconds a
pair against large features; this loop decides most pairs from vertex locations and edge
crossings instead. Every test has a margin far above floating-point error: a vertex or edge
that comes that close to the other boundary (other than at a bitwise-shared vertex) leaves the
pair undecided (-1) for the exact GEOS path. Decided kinds: 0 (interiors disjoint), WHOLE (g in
P), PART (the interiors cross).

Why the decisions hold, g convex and valid, P valid: with no proper edge crossing, no vertex of
P inside g or near its boundary, no vertex of g near P's boundary, and no edge of P running as a
chord between two vertices of g, P's boundary does not meet g's interior, which therefore lies
wholly inside P or wholly outside; one vertex of g clearly inside (or outside) P — or, when all
are shared vertices, g's vertex centroid — tells which. Any proper crossing, any vertex of one
clearly inside the other, or a chord through g means the interiors cross.
"""

from __future__ import annotations

import numpy as np
from numba import njit

IN, OUT, ON, UNSURE = 1, -1, 0, 2


@njit(cache=True, nogil=True, inline="always")
def _margin(dx, dy, ux, uy, rel):
    return rel * (abs(dx) + abs(dy)) * (abs(ux) + abs(uy) + 1.0)


@njit(cache=True, nogil=True)
def _locate(vx, vy, xs, ys, starts, r0, r1, rel):
    """Where (vx, vy) lies against the rings r0..r1-1 (IN, OUT, ON at a shared vertex, UNSURE)."""
    inside = False
    for r in range(r0, r1):
        for k in range(starts[r], starts[r + 1] - 1):
            x0, y0, x1, y1 = xs[k], ys[k], xs[k + 1], ys[k + 1]
            if (vx == x0 and vy == y0) or (vx == x1 and vy == y1):
                return ON
            if vy < min(y0, y1) or vy > max(y0, y1):
                continue
            dx, dy, ux, uy = x1 - x0, y1 - y0, vx - x0, vy - y0
            cross = dx * uy - dy * ux
            near = abs(cross) <= _margin(dx, dy, ux, uy, rel)
            if near and (y0 != y1 or min(x0, x1) <= vx <= max(x0, x1)):
                return UNSURE
            if (y0 > vy) != (y1 > vy) and (cross > 0) == (y1 > y0):
                inside = not inside
    return IN if inside else OUT


@njit(cache=True, nogil=True)
def _orient(ax, ay, bx, by, cx, cy, rel):
    dx, dy, ux, uy = bx - ax, by - ay, cx - ax, cy - ay
    cross = dx * uy - dy * ux
    if abs(cross) <= _margin(dx, dy, ux, uy, rel):
        return 0
    return 1 if cross > 0 else -1


@njit(cache=True, nogil=True)
def _pair(g, ng, gxs, gys, gstart, xs, ys, starts, r0, r1, rel, whole, part):
    """Kind of one pair (see the module docstring)."""
    gx0, gy0, gx1, gy1 = g[0, 0], g[0, 1], g[0, 0], g[0, 1]
    for v in range(ng - 1):
        gx0, gx1 = min(gx0, g[v, 0]), max(gx1, g[v, 0])
        gy0, gy1 = min(gy0, g[v, 1]), max(gy1, g[v, 1])
    n_in, n_out = 0, 0
    for v in range(ng - 1):
        state = _locate(g[v, 0], g[v, 1], xs, ys, starts, r0, r1, rel)
        if state == UNSURE:
            return -1
        n_in += state == IN
        n_out += state == OUT
    if n_in and n_out:
        return part
    for r in range(r0, r1):
        for k in range(starts[r], starts[r + 1] - 1):
            x0, y0, x1, y1 = xs[k], ys[k], xs[k + 1], ys[k + 1]
            if max(x0, x1) < gx0 or min(x0, x1) > gx1 or max(y0, y1) < gy0 or min(y0, y1) > gy1:
                continue
            s0 = _locate(x0, y0, gxs, gys, gstart, 0, 1, rel)
            if s0 == IN:
                return part
            if s0 == UNSURE:
                return -1
            end0, end1 = -1, -1
            for v in range(ng - 1):
                if g[v, 0] == x0 and g[v, 1] == y0:
                    end0 = v
                if g[v, 0] == x1 and g[v, 1] == y1:
                    end1 = v
            if end0 >= 0 and end1 >= 0:  # an edge of P between two vertices of g
                if abs(end0 - end1) == 1 or abs(end0 - end1) == ng - 2:
                    continue  # a shared edge
                mid = _locate((x0 + x1) / 2, (y0 + y1) / 2, gxs, gys, gstart, 0, 1, rel)
                if mid == IN:
                    return part
                if mid == UNSURE:
                    return -1
                continue
            for v in range(ng - 1):
                ax, ay, bx, by = g[v, 0], g[v, 1], g[v + 1, 0], g[v + 1, 1]
                shared = (ax == x0 and ay == y0) or (ax == x1 and ay == y1)
                shared = shared or (bx == x0 and by == y0) or (bx == x1 and by == y1)
                if shared:
                    continue
                if max(ax, bx) < min(x0, x1) or min(ax, bx) > max(x0, x1):
                    continue
                if max(ay, by) < min(y0, y1) or min(ay, by) > max(y0, y1):
                    continue
                o1 = _orient(ax, ay, bx, by, x0, y0, rel)
                o2 = _orient(ax, ay, bx, by, x1, y1, rel)
                o3 = _orient(x0, y0, x1, y1, ax, ay, rel)
                o4 = _orient(x0, y0, x1, y1, bx, by, rel)
                if o1 == 0 or o2 == 0 or o3 == 0 or o4 == 0:
                    return -1
                if o1 != o2 and o3 != o4:
                    return part
    if n_in:
        return whole
    if n_out:
        return 0
    cx, cy = 0.0, 0.0
    for v in range(ng - 1):
        cx += g[v, 0]
        cy += g[v, 1]
    state = _locate(cx / (ng - 1), cy / (ng - 1), xs, ys, starts, r0, r1, rel)
    if state == IN:
        return whole
    if state == OUT:
        return 0
    return -1


@njit(cache=True, nogil=True)
def kinds(ring_g, count_g, convex_g, xs, ys, starts, poly_rings, pg, pf, rel, whole, part):
    """Per pair (g = ring_g[pg], P = polygon pf of the ragged arrays): 0, whole, part or -1."""
    n = len(pg)
    out = np.full(n, -1, dtype=np.int8)
    gstart = np.zeros(2, dtype=np.int64)
    for p in range(n):
        a, b = pg[p], pf[p]
        if not convex_g[a]:
            continue
        ng = count_g[a]
        gstart[1] = ng
        g = ring_g[a]
        out[p] = _pair(
            g, ng, g[:, 0], g[:, 1], gstart, xs, ys, starts, poly_rings[b], poly_rings[b + 1],
            rel, whole, part,
        )  # fmt: skip
    return out
