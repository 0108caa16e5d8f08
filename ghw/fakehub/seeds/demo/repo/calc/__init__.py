"""calc: a tiny arithmetic package."""

from calc.ops import add, divide, factorial, multiply, subtract

__all__ = ["add", "divide", "factorial", "multiply", "subtract"]
