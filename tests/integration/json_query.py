#!/usr/bin/env python3
"""Small JSON helpers for the kiln-toe integration tests (python3 stdlib only).

  json_query.py get FILE PATH        print the value at PATH
  json_query.py step FILE PHASE STEP PATH
                                     the value at PATH inside step STEP of phase PHASE of the
                                     first document of a detailedoutput.json
  json_query.py keys FILE PATH       the keys of the object at PATH, sorted, comma-separated
  json_query.py valid FILE           exit 0 when FILE is one JSON value, else print why, exit 1

PATH is dot-separated: object keys, list indices, and `@json` to decode a JSON-encoded string
(detailedoutput.json keeps each step's inputs and outputs as JSON text). An empty PATH or `.`
is the whole value. Strings print raw; everything else prints as compact JSON with sorted keys.
A PATH that does not exist prints `<missing: reason>` and exits 3.
"""

import json
import sys


class Missing(Exception):
    pass


def walk(value, path):
    if path in ("", "."):
        return value
    for part in path.split("."):
        if part == "@json":
            if not isinstance(value, str):
                raise Missing(f"@json on a {type(value).__name__}")
            value = json.loads(value)
        elif isinstance(value, list):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                raise Missing(f"no index {part} in a list of {len(value)}")
        elif isinstance(value, dict):
            if part not in value:
                raise Missing(f"no key {part!r} (keys: {', '.join(value)})")
            value = value[part]
        else:
            raise Missing(f"cannot take {part!r} of {json.dumps(value)}")
    return value


def render(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def find_step(doc, phase, step):
    for document in doc["documents"]:
        for p in document["phases"]:
            if p["name"] != phase:
                continue
            for s in p["steps"]:
                if s["name"] == step:
                    return s
    raise Missing(f"no step {phase}.{step} in the detailed output")


def main(argv):
    cmd = argv[1]
    try:
        if cmd == "valid":
            try:
                load(argv[2])
            except (OSError, ValueError) as e:
                print(e)
                return 1
            return 0
        if cmd == "get":
            print(render(walk(load(argv[2]), argv[3] if len(argv) > 3 else "")))
        elif cmd == "step":
            step = find_step(load(argv[2]), argv[3], argv[4])
            print(render(walk(step, argv[5] if len(argv) > 5 else "")))
        elif cmd == "keys":
            value = walk(load(argv[2]), argv[3] if len(argv) > 3 else "")
            print(",".join(sorted(value)))
        else:
            print(f"json_query.py: unknown command {cmd}", file=sys.stderr)
            return 2
    except Missing as e:
        print(f"<missing: {e}>")
        return 3
    except (OSError, ValueError) as e:
        print(f"<unreadable: {e}>")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
