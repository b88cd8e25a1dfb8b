"""Evaluation-integrity checks on native units, reported under the Python rule ids (GL103, GL104,
GL105, GL203) through code/native_checks.NATIVE_CHECKS.

The checks read a scoring loop the way a reviewer does. In a `for (i ...)` loop that reads a token
array at offsets of `i`, the highest offset is the token being scored (the target); lower offsets
are its context. Then:

- GL104: a table is read with a key *hashed* from the target (`(h ^ tok[i]) % SIZE`), a branch is
  gated on the target compared with a table entry, or a table is updated with the target before it
  is read in the same iteration. Indexing the gold token's count in an exact table
  (`count[ctx * V + tok[i]]`) is not hashing, and updates after the read are the legal order.
- GL105: a mixture `w * a + (1 - w) * b` whose operand is the gold token's probability, computed
  outside any loop over the vocabulary, in a function that takes a log.
- GL103: two sibling loops over the same positions, the first filling a table from the tokens and
  the second reading it to score them (or both scoring).
- GL203: a native file the script compiles or loads that is not counted in `bytes.code_files`.

Roles are read from behaviour, never from names: token arrays are parameters whose elements index
other arrays, or integer arrays the Python side passes (`np.uint16`, `.long()`) that the C code only
reads at loop positions; gold probabilities are what the Python caller gathers, or float inputs read
once per position inside a logged scalar mixture (docs/packed-native-config.md).
"""

from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

from tree_sitter import Node

from ..facts.declared import Fact, provides
from ..memo import folder_memo
from .syntax import Function, functions, is_write_target, line, of_type, subscript_parts, text, tree_of, walk

if TYPE_CHECKING:
    from ..code.units import CodeUnit
    from ..submission import Submission

HASH_OPERATORS = {"^", "%", "<<", ">>", "*"}
MIXTURE = re.compile(r"\(\s*1(?:\.0*)?f?\s*-\s*([A-Za-z_]\w*)\s*\)")
LOG_CALL = re.compile(r"\b(log|logf|log2|log2f|__logf|logl|std::log)\s*\(")
# Scalars passed across the boundary: lengths and ctypes numbers, never arrays.
SCALAR_ARG = re.compile(r"(\blen\(|\.numel\(|\.shape|\.size\(|ctypes\.c_(int|float|double|long|size_t|uint)\w*\()")
# An array of integers on the Python side: an integer dtype or cast (numpy, torch, ctypes pointers).
INTEGER_ARRAY = re.compile(r"(\b(np|numpy|torch)\.u?int(8|16|32|64)\b|\btorch\.(long|short)\b|"
                           r"\.(long|int|short)\(\)|c_u?(int|short|long)(8|16|32|64)?\b|c_u?(byte|ushort|ulong)\b|"
                           r"dtype=['\"]u?int(8|16|32|64)['\"])")


@dataclass
class Loop:
    node: Node
    var: str
    bound: str
    offsets: dict[str, set[int]] = field(default_factory=dict)   # token array -> offsets of `var`
    first_read: dict[str, int] = field(default_factory=dict)     # token array -> byte of its first read
    scoring: set[str] = field(default_factory=set)   # arrays whose latest read keys a log or a comparison

    @property
    def target(self) -> tuple[str, int] | None:
        """(array, offset) of the token being scored: the latest one read. A loop that reads only
        earlier tokens (`tok[i - 1]`) scores nothing it reads, so it has no target. Between two
        arrays read at the same latest offset (inputs `x[i]` and targets `y[i]`), the target is
        the one whose value keys the scored probability (`log(p[... y[i]])`) or is compared
        (`pred == y[i]`); then the one read first."""
        candidates = [(max(offs), array in self.scoring, -self.first_read.get(array, 0), array)
                      for array, offs in self.offsets.items() if offs and max(offs) >= 0]
        if not candidates:
            return None
        offset, _, _, array = max(candidates)
        return array, offset


def _loop_header(node: Node) -> tuple[str, str] | None:
    init = node.child_by_field_name("initializer")
    cond = node.child_by_field_name("condition")
    if init is None or cond is None:
        return None
    ids = [n for n in of_type(init, "identifier")]
    if not ids:
        return None
    var = text(ids[0])
    if cond.type == "binary_expression" and text(cond.child_by_field_name("left")) == var:
        return var, text(cond.child_by_field_name("right"))
    return var, text(cond)


def _offset(index: Node | None, var: str) -> int | None:
    """k when `index` is `var`, `var + k` or `var - k` (k an integer literal)."""
    if index is None:
        return None
    t = re.sub(r"\s+", "", text(index))
    if t == var:
        return 0
    m = re.fullmatch(rf"{re.escape(var)}([+-])(\d+)", t) or re.fullmatch(rf"(\d+)\+{re.escape(var)}", t)
    if not m:
        return None
    if m.re.pattern.startswith("(\\d+)"):
        return int(m.group(1))
    return int(m.group(2)) * (1 if m.group(1) == "+" else -1)


def _loops(fn: Function, token_arrays: set[str]) -> list[Loop]:
    key = ("loops", frozenset(token_arrays))
    if key in fn.cache:
        return fn.cache[key]
    out = []
    for node in fn.nodes.get("for_statement", []):
        header = _loop_header(node)
        if header is None:
            continue
        loop = Loop(node, *header)
        for sub in fn.within(node, "subscript_expression"):
            array, index = subscript_parts(sub)
            name = text(array)
            if name in token_arrays and not is_write_target(sub):  # outputs written per position are not read
                k = _offset(index, loop.var)
                if k is not None:
                    loop.offsets.setdefault(name, set()).add(k)
                    loop.first_read.setdefault(name, sub.start_byte)
        if loop.offsets:
            latest = max(max(offs) for offs in loop.offsets.values())
            tied = [a for a, offs in loop.offsets.items() if max(offs) == latest]
            if len(tied) > 1:
                loop.scoring = {a for a in tied if _keys_the_score(fn, node, loop.var, a, latest)}
            out.append(loop)
    fn.cache[key] = out
    return out


def _keys_the_score(fn: Function, loop_node: Node, var: str, array: str, offset: int) -> bool:
    """Is `array[var + offset]` (or a variable assigned from it) compared for equality, or part of
    the index of a table read inside a log? That is what a scoring loop does with the answer."""
    reads = [s for s in fn.within(loop_node, "subscript_expression")
             if text(subscript_parts(s)[0]) == array and _offset(subscript_parts(s)[1], var) == offset
             and not is_write_target(s)]
    names = {v for v, value in _assignments(fn, loop_node) if _bare(value) in reads}  # `int t = y[i];`
    uses = reads + [n for n in fn.within(loop_node, "identifier") if text(n) in names
                    and not (n.parent is not None and n.parent.type == "init_declarator"
                             and n.parent.child_by_field_name("declarator") == n)]
    for use in uses:
        node, in_index = use, False
        while node.parent is not None and node != loop_node:
            parent = node.parent
            if parent.type == "binary_expression" and text(parent.child_by_field_name("operator")) in ("==", "!=") \
                    and _bare(node) == use:
                return True                      # compared itself, not a key computed from it
            if parent.type == "subscript_expression" and subscript_parts(parent)[1] is not None \
                    and parent.child_by_field_name("argument") != node:
                in_index = True
            if in_index and parent.type == "call_expression" \
                    and LOG_CALL.search(text(parent.child_by_field_name("function")) + "("):
                return True
            node = parent
    return False


def _bare(node: Node) -> Node:
    """`node` without the parentheses and casts around it."""
    while node.type in ("parenthesized_expression", "cast_expression"):
        inner = node.child_by_field_name("value") if node.type == "cast_expression" else (
            node.named_children[0] if node.named_child_count == 1 else None)
        if inner is None:
            break
        node = inner
    return node


def _assignments(fn: Function, scope: Node) -> Iterator[tuple[str, Node]]:
    """(variable, value) of declarations with initializers and plain assignments, in order."""
    for node in fn.within(scope, "init_declarator", "assignment_expression"):
        if node.type == "init_declarator":
            decl, value = node.child_by_field_name("declarator"), node.child_by_field_name("value")
            if decl is not None and value is not None:
                yield text(decl).lstrip("*&"), value
        elif node.type == "assignment_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None and left.type == "identifier":
                yield text(left), right


def _identifiers(node: Node) -> set[str]:
    return {text(n) for n in of_type(node, "identifier")}


class _Target:
    """Which expressions in a loop derive from the target token, and which hash it."""

    def __init__(self, fn: Function, loop: Loop, array: str, offset: int):
        self.fn = fn
        self.loop = loop
        self.array = array
        self.offset = offset
        self.derived: set[str] = set()
        self.keys: set[str] = set()
        self.context: set[str] = set()      # variables read from the token array, not the target
        pairs = list(_assignments(fn, loop.node))
        for _ in range(3):
            for var, value in pairs:
                if var == loop.var:
                    continue
                if self.mentions(value):
                    self.derived.add(var)
                elif self._reads_tokens(value):
                    self.context.add(var)
                if self.hashes(value) or (_identifiers(value) & self.keys):
                    self.keys.add(var)

    def is_target(self, node: Node) -> bool:
        if node.type != "subscript_expression":
            return False
        array, index = subscript_parts(node)
        return text(array) == self.array and _offset(index, self.loop.var) == self.offset

    def mentions(self, node: Node) -> bool:
        return any(self.is_target(n) or (n.type == "identifier" and text(n) in self.derived)
                   for n in walk(node))

    def hashes(self, node: Node) -> bool:
        for n in walk(node):
            if n.type == "binary_expression":
                op = n.child_by_field_name("operator")
                if op is not None and text(op) in HASH_OPERATORS:
                    left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                    if text(op) == "*":
                        # `ctx * V + tgt` multiplies the context; `tgt * PRIME` mixes the target
                        if any(side is not None and self.mentions(side) for side in (left, right)):
                            return True
                    elif self.mentions(n):
                        return True
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                args = n.child_by_field_name("arguments")
                if args is None or not self.mentions(args):
                    continue
                # A helper of this file that mixes the argument the target goes to with hash
                # operators (`h ^ x`, `x * PRIME`, `x << 7`): its result is a hash of the target.
                values = [a for a in args.named_children if a.type != "comment"]
                if any(self._mixes(fn, i) for i, a in enumerate(values) if self.mentions(a)):
                    return True
                # Whatever the function is called: it combines the target with another token
                # read (the context), so its result is a key of both.
                values = [a for a in args.named_children if a.type != "comment"]
                if any(self.mentions(a) for a in values) and any(
                        not self.mentions(a) and self._reads_tokens(a) for a in values):
                    return True
        return False

    def _mixes(self, callee: Node, position: int) -> bool:
        """`_mixes_parameter`, kept per helper and argument position for the enclosing function
        (`hashes` asks at every assignment and lookup of the loop)."""
        key = ("mixes", text(callee), position)
        found = self.fn.cache.get(key)
        if found is None:
            found = self.fn.cache[key] = _mixes_parameter(callee, position)
        return found

    def _reads_tokens(self, node: Node) -> bool:
        """Does `node` read the token array (at any position) or a value derived from one?"""
        return any((n.type == "subscript_expression" and text(subscript_parts(n)[0]) == self.array)
                   or (n.type == "identifier" and text(n) in self.context)
                   for n in walk(node))

    def keyed(self, node: Node) -> bool:
        return self.hashes(node) or bool(_identifiers(node) & self.keys)


def _mixes_parameter(callee: Node, position: int) -> bool:
    """Does the function of this file that `callee` names combine its `position`-th parameter, or a
    variable assigned from it, with a hash operator (`^`, `*`, `<<`, `%`, ...)? Read from what the
    helper's body does, whatever it is called; a function defined elsewhere is not followed."""
    root = callee
    while root.parent is not None:
        root = root.parent
    name = text(callee).split("::")[-1].split(".")[-1].split("->")[-1]
    for fn_name, _node, params, body in functions(root):
        if fn_name != name or position >= len(params):
            continue
        tainted = {params[position]}
        for _ in range(2):  # locals assigned from the parameter (`uint64_t x = v; x ^= x >> 33;`)
            for decl in of_type(body, "init_declarator", "assignment_expression"):
                target = decl.child_by_field_name("declarator") or decl.child_by_field_name("left")
                value = decl.child_by_field_name("value") or decl.child_by_field_name("right")
                if target is not None and value is not None and _identifiers(value) & tainted:
                    tainted |= _identifiers(target)
        for n in of_type(body, "binary_expression", "assignment_expression"):
            op = n.child_by_field_name("operator")
            op_text = text(op).rstrip("=") if op is not None else ""
            if op_text in HASH_OPERATORS and _identifiers(n) & tainted:
                return True
    return False


def _statement_of(node: Node) -> Node:
    while node.parent is not None and not node.type.endswith("_statement") and node.type != "declaration":
        node = node.parent
    return node


def _written_arrays(statement: Node) -> set[str]:
    out = set()
    for sub in of_type(statement, "subscript_expression"):
        if is_write_target(sub):
            out.add(text(subscript_parts(sub)[0]))
    return out


# -- Python <-> C boundary ----------------------------------------------------------------------------
_ROLES: "weakref.WeakKeyDictionary[Submission, dict[str, dict[int, str]]]" = folder_memo(weakref.WeakKeyDictionary())


@provides(Fact.NATIVE)
def boundary_roles(sub: "Submission") -> dict[str, dict[int, str]]:
    """C function name -> {parameter position: "tokens" | "gold"} from the Python calls into it."""
    if sub in _ROLES:
        return _ROLES[sub]
    from ..code.native import EXTENSION_INLINE, EXTENSION_LOAD, LIBRARY_LOADERS

    roles: dict[str, dict[int, str]] = {}
    for unit in sub.python_units:
        handles: set[str] = set()
        gold_names: set[str] = set()
        integer_names: set[str] = set()
        for node in unit.nodes(ast.Assign):
            value = node.value  # type: ignore[attr-defined]
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]  # type: ignore[attr-defined]
            if INTEGER_ARRAY.search(ast.unparse(value)):
                integer_names.update(names)
            if isinstance(value, ast.Call):
                called = unit.imports.call_name(value) or ""
                if called in LIBRARY_LOADERS or called in (EXTENSION_LOAD, EXTENSION_INLINE) \
                        or called.endswith(".LoadLibrary"):
                    handles.update(names)
            if ".gather(" in ast.unparse(value):
                gold_names.update(names)
        if not handles:
            continue
        for call in unit.nodes(ast.Call):
            func = call.func  # type: ignore[attr-defined]
            if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id in handles):
                continue
            for position, arg in enumerate(call.args):  # type: ignore[attr-defined]
                shown = ast.unparse(arg)
                if SCALAR_ARG.search(shown):
                    continue
                names = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
                if ".gather(" in shown or names & gold_names:
                    roles.setdefault(func.attr, {})[position] = "gold"
                elif INTEGER_ARRAY.search(shown) or names & integer_names:
                    # integers: token ids, or counts and other outputs; _function_roles keeps
                    # those the C function only reads, at positions of a loop
                    roles.setdefault(func.attr, {})[position] = "tokens"
    _ROLES[sub] = roles
    return roles


def _symbol_arrays(fn: Function) -> set[str]:
    """Parameters whose elements are used as indices of other arrays (directly, through a
    variable assigned from them, or through a call): arrays of symbols, such as token ids,
    whatever they are named. Floats cannot index, so probabilities and weights never qualify."""
    if "symbols" in fn.cache:
        return fn.cache["symbols"]
    params = set(fn.params)
    derived: dict[str, set[str]] = {}          # variable -> parameters its value was read from
    pairs = list(_assignments(fn, fn.body))

    def sources(node: Node) -> set[str]:
        out: set[str] = set()
        for n in walk(node):
            if n.type == "subscript_expression":
                array = text(subscript_parts(n)[0])
                if array in params:
                    out.add(array)
            elif n.type == "identifier" and text(n) in derived:
                out |= derived[text(n)]
        return out

    for _ in range(3):
        for var, value in pairs:
            found = sources(value)
            if found and not found <= derived.get(var, set()):
                derived[var] = derived.get(var, set()) | found
    symbols: set[str] = set()
    for sub_node in fn.nodes.get("subscript_expression", []):
        index = subscript_parts(sub_node)[1]
        if index is not None:
            symbols |= sources(index)
    fn.cache["symbols"] = symbols
    return symbols


def _function_roles(sub: "Submission", name: str, params: list[str],
                    fn: Function | None = None) -> tuple[set[str], set[str]]:
    roles = boundary_roles(sub).get(name, {})
    tokens: set[str] = set()
    if fn is not None:
        tokens |= _symbol_arrays(fn)
    gold: set[str] = set()
    read_at_positions = set()
    if fn is not None:
        written = _written_arrays(fn.body)
        for node in fn.nodes.get("for_statement", []):
            header = _loop_header(node)
            if header is None:
                continue
            for sub_node in fn.within(node, "subscript_expression"):
                array, index = subscript_parts(sub_node)
                if text(array) not in written and _offset(index, header[0]) is not None:
                    read_at_positions.add(text(array))
    for position, role in roles.items():
        if position < len(params):
            if role == "gold":
                gold.add(params[position])
            elif fn is None or params[position] in read_at_positions:
                tokens.add(params[position])
    return tokens - gold, gold




# -- the checks -------------------------------------------------------------------------------------
def check_target_keyed(unit: "CodeUnit", sub: "Submission") -> Iterable[tuple[int | None, str]]:
    """GL104 in native code."""
    for fn in tree_of(unit).functions:
        name = fn.name
        tokens, _ = _function_roles(sub, name, fn.params, fn)
        for loop in _loops(fn, tokens):
            target = loop.target
            if target is None:
                continue
            t = _Target(fn, loop, *target)
            shown = f"{target[0]}[{loop.var}{f' + {target[1]}' if target[1] else ''}]"
            reported: set[int] = set()
            for sub_node in fn.within(loop.node, "subscript_expression"):
                array, index = subscript_parts(sub_node)
                if index is None or text(array) in tokens or is_write_target(sub_node):
                    continue
                statement = _statement_of(sub_node)
                if text(array) in _written_arrays(statement):
                    continue  # `t[k] = t[k] + 1` reads only to update
                if t.keyed(index) and line(sub_node) not in reported:
                    reported.add(line(sub_node))
                    yield line(sub_node), (f"`{text(sub_node)[:60]}` in {name}() is looked up with a key hashed "
                                           f"from the token being scored (`{shown}`): the prediction "
                                           "depends on the answer")
            outputs_end = _last_output(fn, loop, tokens)
            for cond_node in fn.within(loop.node, "if_statement", "conditional_expression", "while_statement"):
                cond = cond_node.child_by_field_name("condition")
                if cond is None or not t.mentions(cond) or line(cond) in reported:
                    continue
                if outputs_end is not None and cond_node.start_byte > outputs_end:
                    # after this position's last output: the branch only updates state that later
                    # positions read (the count of the scored token, after it was scored)
                    continue
                # A read-only table indexed by the target (`is_space[tok]`) is a property of the
                # scored token, not state that predicts it: left to the gated-output check below.
                lookups = [s for s in of_type(cond, "subscript_expression")
                           if text(subscript_parts(s)[0]) not in tokens
                           and not (t.mentions(subscript_parts(s)[1])
                                    and text(subscript_parts(s)[0]) not in _written_arrays(fn.body))]
                if lookups or _identifiers(cond) & t.keys:
                    reported.add(line(cond))
                    yield line(cond), (f"a branch in {name}() is gated on the token being scored "
                                       f"(`{text(cond)[:60]}`): the prediction depends on the answer")
                elif cond_node.type == "if_statement" and (out := _gated_output(fn, loop, t, cond_node)):
                    reported.add(line(cond))
                    yield line(cond), (f"{name}() emits `{out}` for the current position only when the token "
                                       f"being scored passes `{text(cond)[:60]}`: whether the hint exists "
                                       "depends on the answer")
            yield from _update_before_read(fn, loop, t, tokens, reported)


def _last_output(fn: Function, loop: Loop, tokens: set[str]) -> int | None:
    """Where the loop body's last output for the current position ends: a write at the loop's
    position (`hint[i] = ...`) into an array that is not a token array, or a log accumulated into
    a score (`nll -= log(...)`). None when the body writes no such output."""
    body = loop.node.child_by_field_name("body")
    if body is None:
        return None
    end = None
    for node in fn.within(body, "assignment_expression"):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            continue
        positional = (left.type == "subscript_expression" and text(subscript_parts(left)[0]) not in tokens
                      and _offset(subscript_parts(left)[1], loop.var) is not None)
        scored = left.type == "identifier" and LOG_CALL.search(text(right)) is not None
        if positional or scored:
            end = node.end_byte if end is None else max(end, node.end_byte)
    return end


def _gated_output(fn: Function, loop: Loop, t: _Target, branch_node: Node) -> str | None:
    """The per-position output (`hint[i] = table[slot].top`) that a branch gated on the target
    writes with a value read from the loop's state, not from the target itself. A value computed
    from the target (`nbytes[i] = len_of[tok]`) is bookkeeping about the scored token, and a constant
    alone carries nothing but the gate."""
    for field_name in ("consequence", "alternative"):
        branch = branch_node.child_by_field_name(field_name)
        if branch is None:
            continue
        for node in fn.within(branch, "assignment_expression"):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None or left.type != "subscript_expression":
                continue
            if _offset(subscript_parts(left)[1], loop.var) is None or t.mentions(right):
                continue
            if any(n.type in ("subscript_expression", "field_expression") for n in walk(right)):
                return text(left)[:40]
    return None


def _update_before_read(fn: Function, loop: Loop, t: _Target, tokens: set[str],
                        reported: set[int]) -> Iterator[tuple[int, str]]:
    name = fn.name
    body = loop.node.child_by_field_name("body")
    if body is None:
        return
    first_update: dict[str, Node] = {}
    for sub_node in fn.within(body, "subscript_expression"):
        array, index = subscript_parts(sub_node)
        table = text(array)
        if table in tokens or index is None:
            continue
        if is_write_target(sub_node):
            if t.mentions(index) and table not in first_update:
                first_update[table] = sub_node
            continue
        update = first_update.get(table)
        if update is None or sub_node.start_byte <= update.start_byte:
            continue
        if table in _written_arrays(_statement_of(sub_node)) or line(sub_node) in reported:
            continue
        reported.add(line(sub_node))
        yield line(sub_node), (f"`{table}` is updated with the token being scored (line {line(update)}) "
                               f"before it is read at line {line(sub_node)} in the same iteration of "
                               f"{name}(): score first, then update")


def check_gold_only_mixture(unit: "CodeUnit", sub: "Submission") -> Iterable[tuple[int | None, str]]:
    """GL105 in native code."""
    for fn in tree_of(unit).functions:
        name = fn.name
        if not LOG_CALL.search(text(fn.body)):
            continue
        tokens, gold = _function_roles(sub, name, fn.params, fn)
        targets = [_Target(fn, loop, *loop.target) for loop in _loops(fn, tokens) if loop.target]
        seen: set[int] = set()
        for expr in fn.nodes.get("binary_expression", []):
            op = expr.child_by_field_name("operator")
            if op is None or text(op) != "+":
                continue
            shown = text(expr)
            m = MIXTURE.search(shown)
            if not m or shown.count(m.group(1)) < 2 or line(expr) in seen:
                continue
            if _inside_vocab_loop(fn, expr, tokens):
                continue
            gold_operand = bool(_identifiers(expr) & gold) or any(
                t.mentions(s) for t in targets for s in of_type(expr, "subscript_expression")
                if text(subscript_parts(s)[0]) not in tokens) or _logged_position_probability(fn, expr, tokens)
            if gold_operand:
                seen.add(line(expr))
                yield line(expr), (f"{name}() mixes probabilities only at the gold token (`{shown[:70]}`), "
                                   "never over the whole vocabulary: the implied distribution does not sum to 1")


def _float_inputs(fn: Function) -> set[str]:
    """Parameters that are arrays of floats the function never writes: per-element inputs."""
    if "float_inputs" in fn.cache:
        return fn.cache["float_inputs"]
    out: set[str] = set()
    decl = fn.node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    for param in (plist.named_children if plist is not None else []):
        kind = param.child_by_field_name("type")
        declarator = param.child_by_field_name("declarator")
        if kind is None or declarator is None or text(kind).split()[-1] not in ("float", "double", "half"):
            continue
        if declarator.type in ("pointer_declarator", "array_declarator"):
            ids = list(of_type(declarator, "identifier"))
            if ids:
                out.add(text(ids[-1]))
    out -= _written_arrays(fn.body)
    fn.cache["float_inputs"] = out
    return out


def _logged_position_probability(fn: Function, expr: Node, tokens: set[str]) -> bool:
    """Is an operand of the mixture `expr` one float read per position (`p[i]`, `i` the variable of
    an enclosing loop, `p` a float input array), and is the mixture itself a scalar whose log is
    taken? That is the probability of the one token at each position: a mixture of such scalars
    is a mixture at the gold token only, whatever the arrays are called. A mixture written into
    an array (`mix[v] = ...`, a row over the vocabulary) is not a scalar and is not read here."""
    inputs = _float_inputs(fn) - tokens
    loop_vars = set()
    parent = expr.parent
    while parent is not None:
        if parent.type == "for_statement" and (header := _loop_header(parent)) is not None:
            loop_vars.add(header[0])
        parent = parent.parent
    per_position = any(text(subscript_parts(s)[0]) in inputs
                       and any(_offset(subscript_parts(s)[1], v) is not None for v in loop_vars)
                       for s in of_type(expr, "subscript_expression"))
    return per_position and _logged_scalar(fn, expr)


def _logged_scalar(fn: Function, expr: Node) -> bool:
    node = expr
    while node.parent is not None and not node.type.endswith("_statement"):
        parent = node.parent
        if parent.type == "call_expression" and LOG_CALL.search(text(parent.child_by_field_name("function")) + "("):
            return True
        if parent.type in ("init_declarator", "assignment_expression"):
            target = parent.child_by_field_name("declarator" if parent.type == "init_declarator" else "left")
            if target is None or target.type != "identifier" or parent.child_by_field_name(
                    "value" if parent.type == "init_declarator" else "right") != node:
                return False
            name = text(target)
            return any(LOG_CALL.search(text(call.child_by_field_name("function")) + "(")
                       and name in _identifiers(call.child_by_field_name("arguments"))
                       for call in fn.nodes.get("call_expression", []))
        node = parent
    return False


def _inside_vocab_loop(fn: Function, node: Node, tokens: set[str]) -> bool:
    """Is `node` inside a loop over the vocabulary? Read from what the loop variable does, not
    from what the bound is called: it is the column of a row-major index whose row width is the
    loop's own bound (`p[i * B + v]` under `v < B`: `v` spans a row of a distribution), or it
    indexes an array that is elsewhere indexed by a token value (`mix[v]` and `mix[tokens[i]]`:
    `v` spans token ids)."""
    parent = node.parent
    while parent is not None:
        header = _loop_variable(parent)
        if header is not None and _spans_vocabulary(fn, parent, *header, tokens):
            return True
        parent = parent.parent
    return False


def _loop_variable(node: Node) -> tuple[str, str] | None:
    if node.type == "for_statement":
        return _loop_header(node)
    if node.type == "while_statement":
        cond = node.child_by_field_name("condition")
        while cond is not None and cond.type == "parenthesized_expression" and cond.named_child_count == 1:
            cond = cond.named_children[0]
        if cond is not None and cond.type == "binary_expression":
            left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
            if left is not None and right is not None and left.type == "identifier":
                return text(left), text(right)
    return None


def _spans_vocabulary(fn: Function, loop: Node, var: str, bound: str, tokens: set[str]) -> bool:
    bound = re.sub(r"\s+", "", bound)
    indexed_by_var: set[str] = set()
    for sub_node in fn.within(loop, "subscript_expression"):
        array, index = subscript_parts(sub_node)
        if index is None:
            continue
        shown = re.sub(r"\s+", "", text(index))
        if shown == var:
            indexed_by_var.add(text(array))
            continue
        if bound and re.search(rf"(^|[^\w])\(?{re.escape(bound)}\)?\*|\*\(?{re.escape(bound)}\)?($|[^\w])", shown) \
                and re.search(rf"(^|\+){re.escape(var)}($|\+)", shown):
            return True                                  # `row * B + v`: v is a column of width B
    if not indexed_by_var:
        return False
    token_values = _token_values(fn, tokens)
    for sub_node in fn.nodes.get("subscript_expression", []):
        array, index = subscript_parts(sub_node)
        if index is None or text(array) not in indexed_by_var:
            continue
        if any((n.type == "subscript_expression" and text(subscript_parts(n)[0]) in tokens)
               or (n.type == "identifier" and text(n) in token_values) for n in walk(index)):
            return True
    return False


def _token_values(fn: Function, tokens: set[str]) -> set[str]:
    """Variables assigned a token read (`int c = tokens[i - 1];`)."""
    key = ("token_values", frozenset(tokens))
    if key not in fn.cache:
        fn.cache[key] = {var for var, value in _assignments(fn, fn.body)
                         if value.type == "subscript_expression" and text(subscript_parts(value)[0]) in tokens}
    return fn.cache[key]


def check_second_pass(unit: "CodeUnit", sub: "Submission") -> Iterable[tuple[int | None, str]]:
    """GL103 in native code."""
    for fn in tree_of(unit).functions:
        name = fn.name
        tokens, _ = _function_roles(sub, name, fn.params, fn)
        loops = _loops(fn, tokens)
        for block in fn.nodes.get("compound_statement", []):
            siblings = [loop for loop in loops if loop.node.parent == block]
            for i, first in enumerate(siblings):
                for second in siblings[i + 1:]:
                    if first.bound != second.bound:
                        continue
                    filled = _written_arrays(first.node) - tokens
                    read = {text(subscript_parts(s)[0]) for s in of_type(second.node, "subscript_expression")
                            if not is_write_target(s)}
                    scores_first = bool(LOG_CALL.search(text(first.node)))
                    scores_second = bool(LOG_CALL.search(text(second.node)))
                    if scores_second and filled & read and not scores_first:
                        table = sorted(filled & read)[0]
                        yield line(second.node), (
                            f"second pass over the scored positions in {name}(): `{table}` is filled from "
                            f"every token by the loop at line {line(first.node)}, then read to score those "
                            f"same tokens at line {line(second.node)}")
                    elif scores_first and scores_second:
                        yield line(second.node), (
                            f"{name}() scores the same positions twice (loops at lines {line(first.node)} "
                            f"and {line(second.node)}): each token must be scored exactly once")


def check_uncounted_native(unit: "CodeUnit", sub: "Submission") -> Iterable[tuple[int | None, str]]:
    """GL203 for native files. `cpp_extension.load` sources are left to the Python-side GL203,
    which reports them at the load call."""
    from ..code.native import KIND_EXTENSION, ORIGINS

    origin = ORIGINS.get(unit)
    if unit.counted or unit.label != unit.path or origin is None or origin.kind == KIND_EXTENSION:
        return
    size = sub.size(unit.path)
    shown = f" ({size:,} bytes)" if size is not None else ""
    yield None, (f"{unit.path}{shown} is {unit.reason}, but it is not counted in the code bytes "
                 "(bytes.code_files)")
