#!/usr/bin/env python3
"""Writes the lab notebooks (docs/labs/*.ipynb) from their sources, src/*.py in the "percent"
format that editors and jupytext read: `# %%` starts a code cell, `# %% [markdown]` a Markdown
cell whose lines are comments. Edit the sources, run this, commit both:
    /usr/bin/python3 docs/labs/make_labs.py
The notebooks are stored unexecuted; CI executes them (tests/labs/check_labs.sh), after
`make_labs.py --check`, which fails when a notebook differs from what its source gives."""
import glob
import os
import sys

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))


def cells_of(text):
    cells, kind, lines = [], None, []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.split("\n"))
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif body:
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.split("\n"):
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    return cells


check = "--check" in sys.argv[1:]
stale = []
for src in sorted(glob.glob(os.path.join(HERE, "src", "*.py"))):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = cells_of(open(src, encoding="utf-8").read())
    out = os.path.join(HERE, os.path.basename(src)[:-3] + ".ipynb")
    if check:
        # Cell ids are random: compare what a reader sees, the cells' kinds and sources.
        def seen(n):
            return [(c.cell_type, c.source) for c in n.cells]
        if not os.path.exists(out) or seen(nbformat.read(out, as_version=4)) != seen(nb):
            stale.append(os.path.relpath(out))
        continue
    nbformat.write(nb, out)
    print("wrote", os.path.relpath(out))
if stale:
    sys.exit("out of date with their sources (run docs/labs/make_labs.py): " + ", ".join(stale))
