"""Rewrite src/tether/__init__.py so that only the kernel loads eagerly.

Reads the ``from .x import a, b`` lines of the current ``__init__.py`` and writes a
version where the kernel (``_core``) and timeouts import at once and every other tier
loads on first attribute access (PEP 562), with the same imports under TYPE_CHECKING
for type checkers. Run it after adding an eager export: ``python tools/make_lazy_init.py``.
"""

from __future__ import annotations

import ast
import pathlib

INIT = pathlib.Path(__file__).resolve().parent.parent / "src" / "tether" / "__init__.py"
EAGER = {"_core", "_timeouts"}
# Lazy exports that are not in __init__.py yet: module (relative to tether) -> names.
# Once the script has run they are in its TYPE_CHECKING block too; listing them again is
# harmless.
EXTRA_LAZY: dict[str, list[str]] = {
    "_streams._ssl": ["NeedHandshakeError", "SSLStream"],
    "_streams._ssl_listener": ["SSLListener"],
    "_streams._ssl_helpers": [
        "open_ssl_over_tcp_listeners",
        "open_ssl_over_tcp_stream",
        "serve_ssl_over_tcp",
    ],
}


def main() -> None:
    source = INIT.read_text()
    tree = ast.parse(source)
    eager: dict[str, list[str]] = {}
    lazy: dict[str, list[str]] = {}
    submodules: list[str] = []
    lazy_block_seen = False
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lazy_block_seen = True
            for inner in node.body:
                if isinstance(inner, ast.ImportFrom) and inner.level == 1 and inner.module:
                    lazy.setdefault(inner.module, []).extend(a.name for a in inner.names)
            continue
        if not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        names = [a.name for a in node.names]
        if node.module is None:
            submodules.extend(names)
        elif node.module in EAGER:
            eager.setdefault(node.module, []).extend(names)
        else:
            lazy.setdefault(node.module, []).extend(names)
    if lazy_block_seen:
        # Already lazy: keep the recorded submodules.
        for node in tree.body:
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "_SUBMODULES":
                submodules = list(ast.literal_eval(node.value))
    for module, names in EXTRA_LAZY.items():
        lazy.setdefault(module, []).extend(names)
    exported = sorted(
        {n for names in eager.values() for n in names}
        | {n for names in lazy.values() for n in names}
        | set(submodules)
    )
    out = ['"""tether: structured concurrency for Python.', "",
           "Start with :func:`run` and :func:`open_nursery`; the docs/ folder has the tutorial.",
           "The kernel loads with the package; every other tier loads on first use, so that",
           '``import tether`` stays fast."""', "", "from __future__ import annotations", "",
           "import importlib", "from typing import TYPE_CHECKING, Any", ""]
    for module, names in sorted(eager.items()):
        out.append(f"from .{module} import (")
        out.extend(f"    {n}," for n in sorted(set(names)))
        out.append(")")
    out.append("")
    out.append("if TYPE_CHECKING:")
    out.append(f"    from . import {', '.join(sorted(set(submodules)))}")
    for module, names in sorted(lazy.items()):
        out.append(f"    from .{module} import (")
        out.extend(f"        {n} as {n}," for n in sorted(set(names)))
        out.append("    )")
    out.append("")
    out.append('__version__ = "0.1.0.dev0"')
    out.append("")
    out.append(f"_SUBMODULES = {tuple(sorted(set(submodules)))!r}")
    out.append("_LAZY_NAMES = {")
    for module, names in sorted(lazy.items()):
        out.extend(f'    "{n}": "{module}",' for n in sorted(set(names)))
    out.append("}")
    out.append("")
    out.append('''

def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value: Any = importlib.import_module(f".{name}", __name__)
    elif name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    else:
        raise AttributeError(f"module 'tether' has no attribute {name!r}")
    globals()[name] = value  # next time, a plain global lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

''')
    out.append("__all__ = [")
    out.extend(f'    "{n}",' for n in exported)
    out.append("]")
    INIT.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
