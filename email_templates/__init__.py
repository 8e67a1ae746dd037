"""Email templates, one folder per email (`subject.txt`, `body.txt`, `body.html`).

A package only so that `pip install .` ships the folders with the code.
"""
