"""Names served lazily by a module that is not their home: public names and old locations.

A module lists the names and where each lives (``"package.module"``, or
``"package.module:new_name"`` for one renamed); they load on first use through the
module's ``__getattr__``, so a name costs no import until it is asked for, and the
module's namespace holds only what it defines or uses.
"""

from importlib import import_module


def lazy_names(module_name: str, names: dict[str, str]):
    """Return a module ``__getattr__`` that finds each of ``names`` in its home."""

    def __getattr__(name):
        try:
            home, _, new_name = names[name].partition(":")
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None
        return getattr(import_module(home), new_name or name)

    return __getattr__
