"""The models module in parts: datamodel-code-generator run on small groups of schemas, each
group's output a function of what that group's run reads, so a run can be served from the cache.

A part owns some schemas. Its run reads them and the schemas they reference, transitively (its
closure), and keeps the classes of the schemas it owns. Parts follow the reference graph:
schemas that reference each other in a cycle are never apart; the schemas of a connected group
stay together unless the group is large, and then dependencies come before what uses them. Part
boundaries are chosen by the names of the schemas (content-defined), so adding or removing a
schema moves the boundary of its own part only.

The runs must agree with one another, as one run would with itself: each class name defined
once, each closure schema's classes named as the part that owns it names them, each imported
name bound to one thing. Parts that disagree are merged and run again, until all agree; the
result depends on the spec alone, whatever was cached.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import schema_name
from ..load import local_refs

# Schemas a part owns: at least MIN (unless its group ends the spec), about TARGET on average,
# at most MAX unless one cycle of references is larger.
MIN, TARGET, MAX = 8, 24, 64


def references(views: dict[str, Any]) -> dict[str, list[str]]:
    """The schemas each schema's view references directly (`$ref`s to components), first seen
    first."""
    return {name: [r for r in referenced(view) if r in views] for name, view in views.items()}


def referenced(view: Any) -> list[str]:
    """Every schema name a `$ref` under `view` names, first seen first."""
    return list(dict.fromkeys(name for ref in local_refs(view) if (name := schema_name(ref)) is not None))


def strongly_connected(nodes: Sequence[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each in `nodes` order; a component
    comes after every component it has edges to (dependencies first)."""
    position = {n: i for i, n in enumerate(nodes)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges.get(node, [])
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component, key=position.__getitem__))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def ordered(units: list[list[str]], edges: dict[str, list[str]], position: dict[str, int]) -> list[list[str]]:
    """`units` (disjoint, acyclic between them) in dependency order, ties broken by the spec's
    order of their first schemas."""
    unit_of = {n: i for i, unit in enumerate(units) for n in unit}
    needs: list[set[int]] = [set() for _ in units]
    users: list[set[int]] = [set() for _ in units]
    for i, unit in enumerate(units):
        for n in unit:
            for m in edges.get(n, []):
                j = unit_of.get(m)
                if j is not None and j != i:
                    needs[i].add(j)
                    users[j].add(i)
    ready = [(position[unit[0]], i) for i, unit in enumerate(units) if not needs[i]]
    heapq.heapify(ready)
    result = []
    while ready:
        _, i = heapq.heappop(ready)
        result.append(units[i])
        for j in users[i]:
            needs[j].discard(i)
            if not needs[j]:
                heapq.heappush(ready, (position[units[j][0]], j))
    if len(result) != len(units):
        raise ValueError("units reference each other in a cycle")
    return result


class _Groups:
    """Disjoint groups of 0..n-1 (union-find), each led by its least member."""

    def __init__(self, n: int) -> None:
        self.leader = list(range(n))

    def find(self, i: int) -> int:
        while self.leader[i] != i:
            self.leader[i] = self.leader[self.leader[i]]
            i = self.leader[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.leader[max(a, b)] = min(a, b)


def _boundary(name: str) -> bool:
    """A content-defined cut after a unit whose first schema has this name (1 in 8)."""
    return zlib.crc32(name.encode("utf-8")) % 8 == 0


def plan(names: Sequence[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """The schemas each part owns, parts in the order their classes are written."""
    position = {n: i for i, n in enumerate(names)}
    # Connected groups (references either way), in the order of their first schemas.
    groups_of = _Groups(len(names))
    for n in names:
        for m in edges.get(n, []):
            groups_of.join(position[n], position[m])
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(names[groups_of.find(position[n])], []).append(n)
    # Units: a small group whole, a large one by its cycles in dependency order.
    units: list[list[str]] = []
    for group in groups.values():
        if len(group) <= MAX:
            units.append(group)
        else:
            units.extend(ordered(strongly_connected(group, edges), edges, position))
    parts: list[list[str]] = []
    current: list[str] = []
    for unit in units:
        if current and len(current) + len(unit) > MAX:
            parts.append(current)
            current = []
        current = current + unit
        if len(current) >= MIN and (len(current) >= TARGET or _boundary(unit[0])):
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    return parts


def closure(owned: Iterable[str], edges: dict[str, list[str]]) -> set[str]:
    """The schemas `owned` reference, transitively, that it does not own."""
    mine = set(owned)
    seen: set[str] = set()
    stack = [m for n in mine for m in edges.get(n, [])]
    while stack:
        n = stack.pop()
        if n in seen or n in mine:
            continue
        seen.add(n)
        stack.extend(edges.get(n, []))
    return seen


def merged(parts: list[list[str]], joined: Iterable[set[int]], edges: dict[str, list[str]], position: dict[str, int]) -> list[list[str]]:
    """`parts` with each set of `joined` indices made one part, then parts that now depend on
    each other in a cycle made one, all in dependency order."""
    groups = _Groups(len(parts))
    for group in joined:
        first, *rest = sorted(group)
        for i in rest:
            groups.join(first, i)
    combined: dict[int, list[str]] = {}
    for i, part in enumerate(parts):
        combined.setdefault(groups.find(i), []).extend(part)
    units = [sorted(part, key=position.__getitem__) for part in combined.values()]
    # Cycles between parts: one part.
    part_of = {n: i for i, unit in enumerate(units) for n in unit}
    labels = [str(i) for i in range(len(units))]
    part_edges = {str(i): sorted({str(part_of[m]) for n in unit for m in edges.get(n, []) if m in part_of and part_of[m] != i}, key=int) for i, unit in enumerate(units)}
    cycles = strongly_connected(labels, part_edges)
    units = [sorted((n for i in cycle for n in units[int(i)]), key=position.__getitem__) for cycle in cycles]
    return ordered(units, edges, position)


def conflicts(parts: Sequence[dict[str, Any]], owner: Callable[[str], int]) -> list[set[int]]:
    """Sets of parts whose runs disagree (see the module's docstring). Each of `parts` has
    `classes` (class -> schema name, of the schemas it owns), `closure_classes` (the same for
    the schemas its closure holds), `blocks` (class -> its source) and `bindings` (imported
    name -> "module.name"). A class two parts define alike is no disagreement: it is written
    once."""
    joined: list[set[int]] = []
    defined: dict[str, int] = {}
    named: dict[tuple[str, str], int] = {}
    for i, part in enumerate(parts):
        for cls, schema in part["classes"].items():
            if cls in defined and parts[defined[cls]]["blocks"].get(cls) != part["blocks"].get(cls):
                joined.append({defined[cls], i})
            defined.setdefault(cls, i)
            named[(cls, schema)] = i
    bound: dict[str, tuple[str, int]] = {}
    for i, part in enumerate(parts):
        for cls, schema in part["closure_classes"].items():
            j = owner(schema)
            if named.get((cls, schema)) != j:
                joined.append({i, j})
        for local, origin in part["bindings"].items():
            if local in defined and defined[local] != i:
                joined.append({i, defined[local]})
            seen = bound.setdefault(local, (origin, i))
            if seen[0] != origin:
                joined.append({i, seen[1]})
    return joined
