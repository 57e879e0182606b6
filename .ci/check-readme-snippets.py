#!/usr/bin/env python3
"""The README's framework snippets are the files CI compiles.

For each `<!-- snippet: PATH -->` marker in README.md, the fenced Swift block that follows must be
exactly the file at PATH (each adapter package builds its Snippets/ folder, so the README's code
compiles). Standard library only.
"""
import re
import sys

readme = open("README.md", encoding="utf-8").read()
markers = list(re.finditer(r"<!-- snippet: (\S+) -->\s*```swift\n(.*?)```", readme, re.S))
if not markers:
    sys.exit("FAIL: README.md has no <!-- snippet: PATH --> markers")
for marker in markers:
    path, block = marker.group(1), marker.group(2)
    source = open(path, encoding="utf-8").read()
    if block.strip() != source.strip():
        sys.exit(f"FAIL: the README's snippet for {path} differs from the file; copy the file into README.md")
    lines = len(source.strip().splitlines())
    if lines > 17:
        sys.exit(f"FAIL: {path} has {lines} lines; the README promises about 15")
print(f"{len(markers)} README snippets match their compiled files")
