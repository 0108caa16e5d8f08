#!/usr/bin/env python3
"""Regenerate docs/states.md from the transition table."""

from pathlib import Path

from ghw.machine.diagram import render_states_md

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "states.md"
    target.write_text(render_states_md(), encoding="utf-8")
    print(f"wrote {target}")
