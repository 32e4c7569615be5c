"""The land ticket ledger as a pure model: operations append balanced moves; views are derived.

The PostGIS ledger (geodata.tickets) plans its entries with the same functions (landmarket.tickets
.moves), so both compute identical entries; this model is what the property tests exercise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from landmarket.errors import Conflict, InvalidInput, NotFound, RecordProblem
from landmarket.tickets.certificate import parse_certificate
from landmarket.tickets.moves import (
    Account,
    LedgerInvariantError,
    LineageBalance,
    Move,
    OpKind,
    check_balanced,
    plan_issue,
    plan_merge,
    plan_move,
    plan_reversal,
)
from landmarket.tickets.quantities import ZERO, positive_area


@dataclass(frozen=True)
class Entry(Move):
    """A recorded entry: a move stamped with its operation."""

    op_id: int = 0


@dataclass(frozen=True)
class Operation:
    """One recorded operation (never changed once written)."""

    op_id: int
    kind: OpKind
    tickets: tuple[str, ...]
    holder: str | None = None
    area_m2: Decimal = ZERO
    ref: str | None = None
    reverses: int | None = None


@dataclass(frozen=True)
class TicketRecord:
    """A certificate: how it came to be (issued, split off or merged) and from which parents."""

    cert: str
    kind: OpKind
    parents: tuple[str, ...]
    op_id: int


@dataclass
class Ledger:
    """An in-memory ledger: operations and entries are appended; every view is derived from them."""

    operations: list[Operation] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    _held: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    _holder: dict[str, str] = field(default_factory=dict)
    _children: dict[str, int] = field(default_factory=dict)
    _reversed: set[int] = field(default_factory=set)

    # ---- views -------------------------------------------------------------------------------
    def composition(self, cert: str) -> dict[str, Decimal]:
        """Area held on a ticket per lineage root (roots with nothing left are omitted)."""
        self._require(cert)
        return {r: a for r, a in self._held.get(cert, {}).items() if a != 0}

    def balance(self, cert: str) -> Decimal:
        """Area still held on a ticket."""
        return sum(self.composition(cert).values(), ZERO)

    def holder(self, cert: str) -> str:
        """Who holds the ticket now."""
        self._require(cert)
        return self._holder[cert]

    def status(self, cert: str) -> str:
        """held while area remains, else what emptied it: landed/merged/split/retired/reversed."""
        if self.balance(cert) > 0:
            return "held"
        for op in reversed(self.operations):
            if cert in op.tickets and op.kind is not OpKind.TRANSFER:
                if op.kind is OpKind.REVERSAL:
                    return "reversed"
                if op.kind is OpKind.SPLIT and op.tickets[-1] == cert:
                    continue  # the split that created it; an emptied child was reversed above
                return {OpKind.LAND: "landed", OpKind.MERGE: "merged", OpKind.SPLIT: "split"}.get(
                    op.kind, "retired"
                )
        return "retired"

    def conservation(self) -> dict[str, LineageBalance]:
        """Per lineage root: issued, held, landed and retired area."""
        sums: dict[tuple[str, Account], Decimal] = defaultdict(lambda: ZERO)
        for e in self.entries:
            sums[(e.root, e.account)] += e.delta_m2
        roots = {e.root for e in self.entries}
        return {
            r: LineageBalance(
                r,
                -sums[(r, Account.ISSUED)],
                sums[(r, Account.HELD)],
                sums[(r, Account.LANDED)],
                sums[(r, Account.RETIRED)],
            )
            for r in sorted(roots)
        }

    def check_invariants(self) -> None:
        """Raise LedgerInvariantError if any lineage is not conserved or any ticket is overdrawn."""
        for lineage in self.conservation().values():
            if not lineage.conserved:
                raise LedgerInvariantError(f"lineage {lineage.root} not conserved: {lineage}")
        for cert, comp in self._held.items():
            for root, amount in comp.items():
                if amount < 0:
                    raise LedgerInvariantError(f"ticket {cert} overdrawn on root {root}: {amount}")

    def parents(self, cert: str) -> tuple[str, ...]:
        """The tickets this one was split off or merged from."""
        self._require(cert)
        return self.tickets[cert].parents

    def children(self, cert: str) -> list[str]:
        """Tickets split off or merged from this one."""
        self._require(cert)
        return [t.cert for t in self.tickets.values() if cert in t.parents]

    def roots(self, cert: str) -> set[str]:
        """The issued tickets this one's area ultimately comes from."""
        record = self.tickets[cert]
        if not record.parents:
            return {cert}
        return set().union(*(self.roots(p) for p in record.parents))

    def family(self, cert: str) -> list[str]:
        """The ticket, its ancestors up to the issued roots and all its descendants."""
        self._require(cert)
        up, down, todo = {cert}, {cert}, [cert]
        while todo:
            for parent in self.tickets[todo.pop()].parents:
                if parent not in up:
                    up.add(parent)
                    todo.append(parent)
        todo = [cert]
        while todo:
            for child in self.children(todo.pop()):
                if child not in down:
                    down.add(child)
                    todo.append(child)
        return sorted(up | down)

    def lineage_edges(self, cert: str) -> list[tuple[str, str, Decimal]]:
        """(parent, child, area moved) for every split and merge inside the ticket's family."""
        family = set(self.family(cert))
        edges = []
        for op in self.operations:
            if op.kind not in (OpKind.SPLIT, OpKind.MERGE) or op.tickets[-1] not in family:
                continue
            moved: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for e in self.entries:
                if e.op_id == op.op_id and e.delta_m2 < 0:
                    moved[e.ticket] -= e.delta_m2
            edges += [(parent, op.tickets[-1], moved[parent]) for parent in op.tickets[:-1]]
        return edges

    # ---- operations --------------------------------------------------------------------------
    def issue(self, cert: str, area_m2: object, holder: str, ref: str | None = None) -> str:
        """Issue a new ticket of area_m2 to holder."""
        parse_certificate(cert)
        if cert in self.tickets:
            raise Conflict(f"证书编号已存在 / certificate {cert} already issued")
        area = positive_area(area_m2, cert)
        op = self._record(OpKind.ISSUE, (cert,), plan_issue(cert, area), holder, area, ref)
        self.tickets[cert] = TicketRecord(cert, OpKind.ISSUE, (), op)
        self._holder[cert] = holder
        return cert

    def transfer(self, cert: str, new_holder: str, ref: str | None = None) -> int:
        """Hand the whole ticket to a new holder (a sale of all its area)."""
        self._live(cert)
        op = self._record(OpKind.TRANSFER, (cert,), [], new_holder, self.balance(cert), ref)
        self._holder[cert] = new_holder
        return op

    def split(
        self, cert: str, area_m2: object, holder: str | None = None, ref: str | None = None
    ) -> str:
        """Split area off a ticket into a child ticket (held by holder, default the same holder)."""
        self._live(cert)
        area = positive_area(area_m2, cert)
        index = self._children.get(cert, 0) + 1
        child = parse_certificate(cert).child(index).chinese
        moves = plan_move(cert, self.composition(cert), area, child, Account.HELD)
        new_holder = holder or self._holder[cert]
        op = self._record(OpKind.SPLIT, (cert, child), moves, new_holder, area, ref)
        self._children[cert] = index
        self.tickets[child] = TicketRecord(child, OpKind.SPLIT, (cert,), op)
        self._holder[child] = new_holder
        return child

    def merge(self, certs: Iterable[str], new_cert: str, ref: str | None = None) -> str:
        """Merge whole tickets of one holder into a new ticket (e.g. to land them together)."""
        parents = sorted(set(certs))
        if len(parents) < 2:
            raise InvalidInput(
                [RecordProblem(new_cert, "至少合并两张地票 / merge needs two tickets", "tickets")]
            )
        for p in parents:
            self._live(p)
        holders = {self._holder[p] for p in parents}
        if len(holders) != 1:
            raise Conflict(
                f"只能合并同一持有人的地票 / tickets of different holders: {sorted(holders)}"
            )
        parse_certificate(new_cert)
        if new_cert in self.tickets:
            raise Conflict(f"证书编号已存在 / certificate {new_cert} already issued")
        moves = plan_merge({p: self.composition(p) for p in parents}, new_cert)
        area = sum((m.delta_m2 for m in moves if m.ticket == new_cert), ZERO)
        holder = holders.pop()
        op = self._record(OpKind.MERGE, (*parents, new_cert), moves, holder, area, ref)
        self.tickets[new_cert] = TicketRecord(new_cert, OpKind.MERGE, tuple(parents), op)
        self._holder[new_cert] = holder
        return new_cert

    def land(self, cert: str, area_m2: object, ref: str | None = None) -> int:
        """Use ticket area for a landing (or a quota purchase); it leaves the tickets for good."""
        return self._spend(OpKind.LAND, Account.LANDED, cert, area_m2, ref)

    def retire(self, cert: str, area_m2: object, ref: str | None = None) -> int:
        """Cancel area of a ticket (expiry, a correction of its acceptance)."""
        return self._spend(OpKind.RETIRE, Account.RETIRED, cert, area_m2, ref)

    def reverse(self, op_id: int, ref: str | None = None) -> int:
        """Correct an earlier operation by a new one negating its entries (once; not a reversal)."""
        target = next((o for o in self.operations if o.op_id == op_id), None)
        if target is None:
            raise NotFound(f"操作不存在 / operation {op_id} not found")
        if target.kind is OpKind.REVERSAL or op_id in self._reversed:
            raise Conflict(f"操作 {op_id} 不能再冲正 / operation {op_id} cannot be reversed again")
        moves = plan_reversal(e for e in self.entries if e.op_id == op_id)
        if target.kind is OpKind.TRANSFER:
            cert = target.tickets[0]
            if self._holder[cert] != target.holder:
                raise Conflict(f"地票 {cert} 已再次转让 / ticket {cert} changed hands since")
            previous = self._previous_holder(cert, op_id)
        else:
            previous = None
        self._check_not_overdrawn(moves)
        op = self._record(
            OpKind.REVERSAL, target.tickets, moves, previous, target.area_m2, ref, op_id
        )
        self._reversed.add(op_id)
        if previous is not None:
            self._holder[target.tickets[0]] = previous
        return op

    # ---- internals ---------------------------------------------------------------------------
    def _spend(
        self, kind: OpKind, account: Account, cert: str, area_m2: object, ref: str | None
    ) -> int:
        self._live(cert)
        area = positive_area(area_m2, cert)
        moves = plan_move(cert, self.composition(cert), area, cert, account)
        return self._record(kind, (cert,), moves, self._holder[cert], area, ref)

    def _record(
        self,
        kind: OpKind,
        tickets: tuple[str, ...],
        moves: list[Move],
        holder: str | None,
        area: Decimal,
        ref: str | None,
        reverses: int | None = None,
    ) -> int:
        check_balanced(moves)
        op_id = len(self.operations) + 1
        self.operations.append(Operation(op_id, kind, tickets, holder, area, ref, reverses))
        for m in moves:
            self.entries.append(Entry(m.account, m.ticket, m.root, m.delta_m2, op_id))
            if m.account is Account.HELD:
                comp = self._held.setdefault(m.ticket, {})
                comp[m.root] = comp.get(m.root, ZERO) + m.delta_m2
        return op_id

    def _check_not_overdrawn(self, moves: list[Move]) -> None:
        after: dict[tuple[str, str], Decimal] = {}
        for m in moves:
            if m.account is Account.HELD:
                key = (m.ticket, m.root)
                after[key] = (
                    after.get(key, self._held.get(m.ticket, {}).get(m.root, ZERO)) + m.delta_m2
                )
        short = sorted(k[0] for k, v in after.items() if v < 0)
        if short:
            raise Conflict(f"冲正后地票面积不足 / reversal would overdraw tickets {short}")

    def _previous_holder(self, cert: str, before_op: int) -> str:
        holder = None
        for op in self.operations:
            if op.op_id >= before_op:
                break
            if op.holder is not None and op.tickets and op.tickets[-1] == cert:
                holder = op.holder
        assert holder is not None
        return holder

    def _require(self, cert: str) -> None:
        if cert not in self.tickets:
            raise NotFound(f"地票不存在 / ticket {cert} not found")

    def _live(self, cert: str) -> None:
        if self.balance(cert) <= 0:
            raise Conflict(f"地票 {cert} 已无可用面积 / ticket {cert} has no area left")
