#!/usr/bin/env python3
"""Fails when a public symbol written in Sources/ has no doc comment.

Reads the symbol graphs that `swift build -Xswiftc -emit-symbol-graph` writes; symbols the compiler
synthesises (no source location) are skipped.
"""
import glob
import json
import sys

directory = sys.argv[1]
missing = []
graphs = [path for path in glob.glob(f"{directory}/TokenKit*.symbols.json") if "@" not in path]
if len(graphs) < 2:
    sys.exit(f"expected the TokenKit and TokenKitTesting symbol graphs in {directory}, found {graphs}")
for path in graphs:
    for symbol in json.load(open(path))["symbols"]:
        if symbol["accessLevel"] in ("public", "open") and "docComment" not in symbol and "location" in symbol:
            missing.append(".".join(symbol["pathComponents"]))
for name in sorted(missing):
    print(f"undocumented public symbol: {name}")
print(f"{len(missing)} undocumented public symbols")
sys.exit(1 if missing else 0)
