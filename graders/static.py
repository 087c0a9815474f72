"""Static (AST) checks of a student's cells: tampering with the grading machinery, found by reading.

A cell that patches numpy, builtins or the IPython machinery, reaches for ``sys.modules``, the
grader's own modules or rnnlib's reference of an exercise under grade, or ends its own process,
is flagged with the cell, the line and what it does. Flags are pure data; the pipeline decides
what they cost.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# modules whose attributes a student's code must never assign (the tests call into them)
PROTECTED_MODULES = {
    "numpy",
    "np",
    "builtins",
    "__builtins__",
    "sys",
    "IPython",
    "math",
    "unittest",
    "inspect",
    "os",
    "importlib",
    "graders",
    "rnnlib",
    "nbgrader",
    "types",
}
# names whose mere use means the cell reaches into the interpreter or the kernel
FORBIDDEN_NAMES = {
    "get_ipython": "uses get_ipython() (the kernel's machinery)",
    "__builtins__": "touches __builtins__",
    "__import__": "imports modules dynamically (__import__)",
    "exec": "runs code from a string (exec)",
    "eval": "runs code from a string (eval)",
    "compile": "compiles code from a string (compile)",
    "globals": "rewrites the notebook's globals()",
    "setattr": "sets attributes dynamically (setattr)",
    "delattr": "deletes attributes dynamically (delattr)",
}
FORBIDDEN_ATTRIBUTES = {
    ("sys", "modules"): "reaches into sys.modules",
    ("sys", "settrace"): "installs a trace function (sys.settrace)",
    ("sys", "setprofile"): "installs a profile function (sys.setprofile)",
    ("sys", "_getframe"): "inspects the caller's frames (sys._getframe)",
    ("os", "_exit"): "ends its own process (os._exit)",
    ("os", "kill"): "sends signals (os.kill)",
    ("os", "killpg"): "sends signals (os.killpg)",
    ("os", "fork"): "forks processes (os.fork)",
    ("os", "system"): "runs shell commands (os.system)",
    ("signal", "signal"): "changes signal handlers",
    ("atexit", "register"): "registers exit handlers",
}
FORBIDDEN_IMPORTS = {
    "IPython": "imports IPython (the kernel's machinery)",
    "ctypes": "imports ctypes (raw memory access)",
    "importlib": "imports importlib (dynamic imports)",
    "subprocess": "imports subprocess (runs other programs)",
    "multiprocessing": "imports multiprocessing (starts processes)",
    "graders": "imports the grader's own modules",
    "nbgrader": "imports nbgrader",
    "gc": "imports gc (reaches objects it was not given)",
    "signal": "imports signal (changes how the kernel is interrupted)",
    "builtins": "imports builtins",
}


@dataclass(frozen=True)
class Flag:
    """One finding: the cell (its grade_id or index), the line in it, and what was found."""

    cell: str
    line: int
    message: str
    exercise: str | None = None  # the one exercise it concerns; None: the whole notebook

    def text(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.message}"


def python_source(cell_source: str) -> str:
    """The cell as Python: IPython magics and shell escapes become get_ipython() calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(cell_source)
    except Exception:  # no IPython, or a cell it cannot transform: read it as it is
        return cell_source


def _root_name(node: ast.AST) -> str | None:
    """The leftmost name of an attribute chain: ``np`` for ``np.testing.assert_allclose``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


class _Scanner(ast.NodeVisitor):
    def __init__(self, cell: str, graded: set[str], aliases: dict[str, str], answer: bool = True):
        self.cell = cell
        self.answer = answer  # an answer cell: any use of a graded reference counts
        self.graded = graded
        self.aliases = aliases  # local name -> module it stands for (np -> numpy)
        self.flags: list[Flag] = []

    def flag(self, node: ast.AST, message: str, exercise: str | None = None) -> None:
        self.flags.append(Flag(self.cell, getattr(node, "lineno", 0), message, exercise))

    def _module_of(self, name: str | None) -> str | None:
        if name is None:
            return None
        return self.aliases.get(name, name if name in PROTECTED_MODULES else None)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            self.aliases[alias.asname or top] = top
            if top in FORBIDDEN_IMPORTS:
                self.flag(node, FORBIDDEN_IMPORTS[top])
            if top == "rnnlib" and alias.name != "rnnlib":
                self._check_rnnlib_path(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        top = (node.module or "").split(".")[0]
        if top in FORBIDDEN_IMPORTS:
            self.flag(node, FORBIDDEN_IMPORTS[top])
        for alias in node.names:
            if top in ("numpy", "builtins", "sys", "os"):
                self.aliases[alias.asname or alias.name] = f"{top}.{alias.name}"
            if top == "rnnlib":
                if alias.name == "*":
                    self.flag(
                        node, "imports everything from rnnlib, the reference solutions included"
                    )
                elif alias.name in self.graded:
                    self.flag(
                        node,
                        f"imports the reference {alias.name} from rnnlib instead of writing it",
                        alias.name,
                    )
            if top == "os" and alias.name in ("_exit", "kill", "killpg", "fork", "system"):
                self.flag(node, FORBIDDEN_ATTRIBUTES[("os", alias.name)])
        self.generic_visit(node)

    def _check_rnnlib_path(self, node: ast.AST, dotted: str) -> None:
        for name in dotted.split(".")[1:]:
            if name in self.graded:
                self.flag(node, f"uses the reference rnnlib.{name} instead of writing it", name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        root = self._module_of(_root_name(node))
        if root:
            top = root.split(".")[0]
            if (top, node.attr) in FORBIDDEN_ATTRIBUTES:
                self.flag(node, FORBIDDEN_ATTRIBUTES[(top, node.attr)])
            if top == "rnnlib" and node.attr in self.graded and self.answer:
                self.flag(
                    node, f"uses the reference rnnlib.{node.attr} instead of writing it", node.attr
                )
        self.generic_visit(node)

    def _check_target(self, target: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._check_target(elt)
            return
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            root = self._module_of(_root_name(target))
            if root:
                self.flag(
                    target, f"patches {_dotted(target) or root} (assigns into the {root} module)"
                )
        elif isinstance(target, ast.Name) and target.id in ("get_ipython", "__builtins__", "print"):
            self.flag(target, f"rebinds {target.id}")
        elif isinstance(target, ast.Name) and target.id in self.graded and not self.answer:
            self.flag(target, f"rebinds {target.id} outside its answer cell", target.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES:
            self.flag(node, FORBIDDEN_NAMES[node.id])

    def visit_Call(self, node: ast.Call) -> None:
        # monkeypatching through a helper: setattr(np, ...), vars(np)[...] = ...
        func = _dotted(node.func)
        if func in ("vars", "getattr") and node.args:
            root = self._module_of(_root_name(node.args[0]))
            if root == "rnnlib" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                if node.args[1].value in self.graded:
                    self.flag(
                        node,
                        f"uses the reference rnnlib.{node.args[1].value} instead of writing it",
                        str(node.args[1].value),
                    )
        if func.endswith("input_transformers_cleanup") or func.endswith("input_transformers_post"):
            self.flag(node, "installs an IPython input transformer")
        self.generic_visit(node)


def scan_cell(
    source: str,
    cell: str,
    graded: set[str],
    aliases: dict[str, str] | None = None,
    answer: bool = True,
) -> list[Flag]:
    """The flags of one cell; ``aliases`` carries import aliases across the notebook's cells.

    In other cells than answer cells (``answer`` False), using a graded reference is only flagged
    where it binds the exercise's name (demos may call rnnlib's version to compare)."""
    aliases = {} if aliases is None else aliases
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return []  # a syntax error is the kernel's to report; it tampers with nothing
    scanner = _Scanner(cell, graded, aliases, answer)
    scanner.visit(tree)
    return scanner.flags


def scan_notebook(cells: list[tuple[str, str, str | None]], graded: set[str]) -> list[Flag]:
    """Flags for a notebook's student cells, given as (cell label, source, exercise or None).

    A flag found in an exercise's answer cell that concerns only that exercise keeps its name;
    everything that tampers with the environment concerns the whole notebook.
    """
    aliases = {"np": "numpy"}
    flags: list[Flag] = []
    seen = set()
    for label, source, exercise in cells:
        for flag in scan_cell(source, label, graded, aliases, answer=exercise is not None):
            key = (flag.cell, flag.line, flag.message)
            if key not in seen:
                seen.add(key)
                flags.append(flag)
    return flags


# ------------------------------------------------------------------------------------------
# What a submission's code is, for keying its cases and spotting pasted reference code
# ------------------------------------------------------------------------------------------


def _without_docstrings(tree: ast.AST) -> ast.AST:
    """``tree`` with the docstring of the module and of every function and class dropped."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


def normalised_code(source: str) -> str:
    """The code of ``source`` without comments, formatting or docstrings (an ``ast.dump``);
    a source that does not parse stays as its stripped text, line by line."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return "\n".join(line.rstrip() for line in source.strip().splitlines())
    return ast.dump(_without_docstrings(tree))


def code_digest(sources: list[str]) -> str:
    """A hash of what ``sources`` (cells, in order) do: the same code hashes the same whatever
    its comments and layout, any change to the code gives a new hash."""
    import hashlib

    h = hashlib.sha256()
    for source in sources:
        h.update(normalised_code(source).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


MIN_REFERENCE_STATEMENTS = 6  # below this, matching the reference is no evidence of copying


class _Anonymise(ast.NodeTransformer):
    """Every name a student may choose (variables, arguments, functions) becomes a numbered
    placeholder, the same name always the same one, numbered in order of first appearance, and
    annotations go: what is left is the code's shape and which value goes where.

    So a consistent renaming (each name replaced by a name of its own everywhere) leaves the
    result unchanged, but using one name where the other code uses another (the LSTM's gates
    swapped, ``[xt, a_prev]`` for ``[a_prev, xt]``) does not.
    """

    def __init__(self) -> None:
        self.placeholders: dict[str, str] = {}

    def placeholder(self, name: str) -> str:
        return self.placeholders.setdefault(name, f"_{len(self.placeholders)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id=self.placeholder(node.id), ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(arg=self.placeholder(node.arg)), node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self.placeholder(node.name)
        node.returns = None
        node.decorator_list = []
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 (ast.NodeVisitor's naming)

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self.placeholder(name) for name in node.names]
        return node

    visit_Nonlocal = visit_Global  # noqa: N815 (ast.NodeVisitor's naming)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        # the annotation goes before the names are numbered, so it takes no placeholder
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        plain = ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
        return self.generic_visit(plain)


def _shape(tree: ast.AST) -> str:
    return ast.dump(_Anonymise().visit(_without_docstrings(tree)), annotate_fields=False)


def _statements(tree: ast.AST) -> int:
    return sum(
        isinstance(n, ast.stmt) and not isinstance(n, (ast.Import, ast.ImportFrom, ast.Pass))
        for n in ast.walk(tree)
    )


def _functions(tree: ast.AST) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def matches_reference(
    answer: str, reference: str, min_statements: int = MIN_REFERENCE_STATEMENTS
) -> bool:
    """True when a function of the ``answer`` cell is the ``reference`` function's code with at
    most its names (each renamed consistently), annotations, comments, docstring and layout
    changed, and that code is more than a few trivial lines (at least ``min_statements``
    statements, imports not counted). An answer that uses one name where the reference uses
    another is other code, even if it has the same shape.

    ``reference`` is the source of one function (e.g. ``inspect.getsource`` of rnnlib's).
    A cell that does not parse matches nothing.
    """
    try:
        ref_tree = ast.parse(python_source(reference).strip("\n"))
        answer_tree = ast.parse(python_source(answer))
    except SyntaxError:
        return False
    refs = _functions(ref_tree)
    if not refs:
        return False
    ref = refs[0]
    if _statements(ref) - 1 < min_statements:  # the def itself is not a statement of the body
        return False
    wanted = _shape(ast.Module(body=[ref], type_ignores=[]))
    return any(
        _shape(ast.Module(body=[fn], type_ignores=[])) == wanted for fn in _functions(answer_tree)
    )


def reference_copies(
    answers: list[tuple[str, str]],
    references: dict[str, str],
    course_solutions: dict[str, str] | None = None,
) -> list[str]:
    """The answer cells that reproduce a reference function, as messages for the CSV.

    Args:
        answers: (grade_id, source) of the student's answer cells
        references: grade_id -> the source of the reference function it is compared with
        course_solutions: grade_id -> the course's own solution text; an answer that is this text
            (up to blank lines and indentation at line ends) is not reported. The course's
            solutions are rnnlib's functions (the no-drift rule), so this is a loophole for a
            verbatim copy, kept until the instructor decides (see the branch's report).

    Returns:
        "matches the reference solution (answer cell <grade_id>)" per matching cell
    """
    course_solutions = course_solutions or {}

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines() if line.strip()]

    found = []
    for grade_id, source in answers:
        reference = references.get(grade_id)
        if reference is None or not matches_reference(source, reference):
            continue
        solution = course_solutions.get(grade_id)
        if solution is not None and lines(solution) == lines(source):
            continue
        found.append(f"matches the reference solution (answer cell {grade_id})")
    return found
