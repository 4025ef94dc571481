from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("aiologic")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
__version_tuple__: tuple[int | str, ...] = tuple(
    int(part) if part.isdigit() else part for part in __version__.split(".")
)
