"""Compiled pair kinds of a polygon g (no holes) against a large polygon P (holes allowed).

The prepared-geometry predicates GEOS offers (intersects, covers, touches) cost microseconds a
pair against large features; this loop decides most pairs from vertex locations and edge
crossings instead. Every test has a margin far above floating-point error: a vertex or edge
that comes that close to the other boundary (other than at a bitwise-shared vertex) leaves the
pair undecided (-1) for the exact GEOS path. Decided kinds: 0 (interiors disjoint), WHOLE (g in
P), PART (the interiors cross).

Why the decisions hold, g and P valid: with no proper edge crossing, no vertex of
P inside g or near its boundary, no vertex of g near P's boundary, and no edge of P running as a
chord between two vertices of g, P's boundary does not meet g's interior, which therefore lies
wholly inside P or wholly outside; one vertex of g clearly inside (or outside) P — or, when all
are shared vertices and g is convex, g's vertex centroid — tells which. Any proper crossing, any vertex of one
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
def _locate_in(vx, vy, xs, ys, edges, m, rel):
    """_locate over the edges edges[:m] (start indices, in ring order) instead of whole rings:
    the same answer when the edges left out cannot span vy."""
    inside = False
    for t in range(m):
        k = edges[t]
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
def _pair(gx, gy, gs, gr, convex, xs, ys, starts, r0, r1, rel, whole, part, band):
    """Kind of one pair: g the ring gr of (gx, gy, gs), P the rings r0..r1-1 of (xs, ys, starts).

    band is scratch space for P's edges whose y-range meets g's envelope: g's vertices lie in
    it, so no other edge can span their y or end at one, and the crossing tests skip the others
    by envelope anyway; the same answers as over all of P's edges, fewer of them visited."""
    a0, a1 = gs[gr], gs[gr + 1]
    ng = a1 - a0
    gx0, gx1, gy0, gy1 = gx[a0], gx[a0], gy[a0], gy[a0]
    for v in range(a0, a1):
        gx0, gx1 = min(gx0, gx[v]), max(gx1, gx[v])
        gy0, gy1 = min(gy0, gy[v]), max(gy1, gy[v])
    m = 0
    for r in range(r0, r1):
        for k in range(starts[r], starts[r + 1] - 1):
            if max(ys[k], ys[k + 1]) < gy0 or min(ys[k], ys[k + 1]) > gy1:
                continue
            band[m] = k
            m += 1
    n_in, n_out = 0, 0
    for v in range(a0, a1 - 1):
        state = _locate_in(gx[v], gy[v], xs, ys, band, m, rel)
        if state == UNSURE:
            return -1
        n_in += state == IN
        n_out += state == OUT
    if n_in and n_out:
        return part
    for t in range(m):
        k = band[t]
        x0, y0, x1, y1 = xs[k], ys[k], xs[k + 1], ys[k + 1]
        if max(x0, x1) < gx0 or min(x0, x1) > gx1 or max(y0, y1) < gy0 or min(y0, y1) > gy1:
            continue
        s0 = _locate(x0, y0, gx, gy, gs, gr, gr + 1, rel)
        if s0 == IN:
            return part
        if s0 == UNSURE:
            return -1
        end0, end1 = -1, -1
        for v in range(a0, a1 - 1):
            if gx[v] == x0 and gy[v] == y0:
                end0 = v - a0
            if gx[v] == x1 and gy[v] == y1:
                end1 = v - a0
        if end0 >= 0 and end1 >= 0:  # an edge of P between two vertices of g
            if abs(end0 - end1) == 1 or abs(end0 - end1) == ng - 2:
                continue  # a shared edge
            mid = _locate((x0 + x1) / 2, (y0 + y1) / 2, gx, gy, gs, gr, gr + 1, rel)
            if mid == IN:
                return part
            if mid == UNSURE:
                return -1
            continue
        for v in range(a0, a1 - 1):
            ax, ay, bx, by = gx[v], gy[v], gx[v + 1], gy[v + 1]
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
    if not convex:  # every vertex shared: only a convex g has its vertex centroid inside
        return -1
    cx, cy = 0.0, 0.0
    for v in range(a0, a1 - 1):
        cx += gx[v]
        cy += gy[v]
    # (the vertex mean may round past g's envelope: located against the whole rings)
    state = _locate(cx / (ng - 1), cy / (ng - 1), xs, ys, starts, r0, r1, rel)
    if state == IN:
        return whole
    if state == OUT:
        return 0
    return -1


@njit(cache=True, nogil=True)
def convex_rings(xs, ys, starts, rel):
    """Per ring: every vertex clearly inside of (or on) every edge's line, no repeated points."""
    n = len(starts) - 1
    out = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        s0, s1 = starts[r], starts[r + 1]
        twice = 0.0
        for k in range(s0, s1 - 1):
            twice += xs[k] * ys[k + 1] - xs[k + 1] * ys[k]
        if twice == 0.0 or s1 - s0 < 4:
            continue
        sign = 1 if twice > 0 else -1
        ok = True
        for k in range(s0, s1 - 1):
            x0, y0, x1, y1 = xs[k], ys[k], xs[k + 1], ys[k + 1]
            if x0 == x1 and y0 == y1:
                ok = False
                break
            for v in range(s0, s1 - 1):
                if (xs[v] == x0 and ys[v] == y0) or (xs[v] == x1 and ys[v] == y1):
                    continue
                if _orient(x0, y0, x1, y1, xs[v], ys[v], rel) != sign:
                    ok = False
                    break
            if not ok:
                break
        out[r] = ok
    return out


@njit(cache=True, nogil=True)
def kinds(gx, gy, gs, gpoly, convex, xs, ys, starts, poly_rings, pg, pf, rel, whole, part):
    """Per pair (polygon pg of the g arrays, polygon pf of the P arrays): 0, whole, part or -1.

    g must be a polygon without holes; pairs where it has holes are left open.
    """
    n = len(pg)
    out = np.full(n, -1, dtype=np.int8)
    band = np.empty(max(len(xs), 1), dtype=np.int64)
    for p in range(n):
        a, b = pg[p], pf[p]
        if gpoly[a + 1] - gpoly[a] != 1:
            continue
        gr = gpoly[a]
        out[p] = _pair(
            gx, gy, gs, gr, convex[gr], xs, ys, starts, poly_rings[b], poly_rings[b + 1],
            rel, whole, part, band,
        )  # fmt: skip
    return out
