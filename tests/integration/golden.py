#!/usr/bin/env python3
"""Golden-file support for toe_golden.sh (python3 stdlib only).

  golden.py normalize FILE TMPDIR    print FILE's JSON with the run-specific parts replaced:
                                     startTime/endTime values -> "<time>", TMPDIR -> "<tmp>",
                                     TOE_<date>_<time>_UTC-0_ -> TOE_<time>_UTC-0_
  golden.py compare EXPECTED ACTUAL  exit 0 when equal, else print a unified diff and exit 1
  golden.py shape FILE               check a detailedoutput.json against the documented shape
                                     (reference section 2.4); print each problem, exit 1 if any
"""

import difflib
import json
import os
import re
import sys

TOE_FOLDER = re.compile(r"TOE_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_UTC-0_")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

RUN_KEYS = ["executionId", "status", "startTime", "endTime", "failureMessage", "documents"]
DOCUMENT_KEYS = ["name", "filePath", "status", "description", "startTime", "endTime",
                 "failureMessage", "phases"]
PHASE_KEYS = ["name", "status", "startTime", "endTime", "failureMessage", "steps"]
STEP_KEYS = ["name", "status", "failureMessage", "timeoutSeconds", "onFailure", "maxAttempts",
             "action", "startTime", "endTime", "inputs", "outputs", "loop", "detailedOutput"]
STATUSES = {"success", "failed", "skipped", "IgnoredFailure", "SuccessWithIgnoredFailure",
            "rebootRequested", "cancelled"}


def normalize(value, tmp_dirs, key=None):
    if key in ("startTime", "endTime") and isinstance(value, str):
        return "<time>"
    if isinstance(value, str):
        for tmp in tmp_dirs:
            value = value.replace(tmp, "<tmp>")
        return TOE_FOLDER.sub("TOE_<time>_UTC-0_", value)
    if isinstance(value, list):
        return [normalize(v, tmp_dirs) for v in value]
    if isinstance(value, dict):
        return {k: normalize(v, tmp_dirs, k) for k, v in value.items()}
    return value


def dumps(value):
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


class Shape:
    def __init__(self):
        self.problems = []

    def keys(self, where, obj, expected):
        if not isinstance(obj, dict):
            self.problems.append(f"{where}: not an object")
            return False
        if list(obj) != expected:
            self.problems.append(f"{where}: keys {list(obj)}, expected {expected}")
        return True

    def time(self, where, obj):
        for k in ("startTime", "endTime"):
            v = obj.get(k)
            if not (isinstance(v, str) and (v == "<time>" or RFC3339.match(v))):
                self.problems.append(f"{where}.{k}: {v!r} is not an RFC 3339 time")

    def status(self, where, obj):
        if obj.get("status") not in STATUSES:
            self.problems.append(f"{where}.status: {obj.get('status')!r} is not a status")

    def run(self, where, run):
        if not self.keys(where, run, RUN_KEYS):
            return
        self.time(where, run)
        self.status(where, run)
        for i, d in enumerate(run.get("documents", [])):
            self.document(f"{where}.documents[{i}]", d)

    def document(self, where, d):
        if not self.keys(where, d, DOCUMENT_KEYS):
            return
        self.time(where, d)
        self.status(where, d)
        for i, p in enumerate(d.get("phases", [])):
            self.phase(f"{where}.phases[{i}]", p)

    def phase(self, where, p):
        if not self.keys(where, p, PHASE_KEYS):
            return
        self.time(where, p)
        self.status(where, p)
        for i, s in enumerate(p.get("steps", [])):
            self.step(f"{where}.steps[{i}]", s)

    def step(self, where, s):
        if not self.keys(where, s, STEP_KEYS):
            return
        self.time(where, s)
        self.status(where, s)
        for k in ("timeoutSeconds", "maxAttempts"):
            if not isinstance(s.get(k), int):
                self.problems.append(f"{where}.{k}: {s.get(k)!r} is not a number")
        if s.get("onFailure") not in ("Abort", "Continue", "Ignore"):
            self.problems.append(f"{where}.onFailure: {s.get('onFailure')!r}")
        for k in ("inputs", "outputs"):
            try:
                decoded = json.loads(s.get(k))
                if not isinstance(decoded, list):
                    self.problems.append(f"{where}.{k}: does not encode a list")
            except (TypeError, ValueError):
                self.problems.append(f"{where}.{k}: not a JSON-encoded string")
        if s.get("loop") is not None and not isinstance(s.get("loop"), dict):
            self.problems.append(f"{where}.loop: neither null nor an object")
        nested = s.get("detailedOutput")
        if nested is not None:
            if not isinstance(nested, list):
                self.problems.append(f"{where}.detailedOutput: neither null nor a list")
            else:
                for i, r in enumerate(nested):
                    self.run(f"{where}.detailedOutput[{i}]", r)


def main(argv):
    cmd = argv[1]
    if cmd == "normalize":
        with open(argv[2], encoding="utf-8") as f:
            value = json.load(f)
        tmp = argv[3]
        tmp_dirs = sorted({tmp, os.path.realpath(tmp)}, key=len, reverse=True)
        sys.stdout.write(dumps(normalize(value, tmp_dirs)))
        return 0
    if cmd == "compare":
        with open(argv[2], encoding="utf-8") as f:
            expected = f.read()
        with open(argv[3], encoding="utf-8") as f:
            actual = f.read()
        if expected == actual:
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            expected.splitlines(True), actual.splitlines(True), argv[2], "actual"))
        return 1
    if cmd == "shape":
        with open(argv[2], encoding="utf-8") as f:
            value = json.load(f)
        shape = Shape()
        shape.run("run", value)
        for p in shape.problems:
            print(p)
        return 1 if shape.problems else 0
    print(f"golden.py: unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
