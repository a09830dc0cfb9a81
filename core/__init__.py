"""What the API and the workers share: the render contract, the method and objective tables, the
store layout in Redis, settings and typed errors. It imports neither side, nor TensorFlow, nor
FastAPI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("filterscope")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
