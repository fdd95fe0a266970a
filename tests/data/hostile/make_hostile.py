#!/usr/bin/env python3
"""Writes hostile tar archives, one per case, for the layer and import tests.

Usage: make_hostile.py OUTPUT_DIR OUTSIDE_DIR

OUTSIDE_DIR is the absolute path of a folder outside any unpack target; the symlink cases point
there, so a test can check that nothing appeared in it. Every case is OUTPUT_DIR/<case>.tar, and
one line "<case> <entry>" per case goes to stdout, where <entry> is the name of the entry that
must be refused (the error must name it) or "-" when the archive must unpack and stay harmless.
Names are written verbatim: Python's tarfile does not sanitize what it writes.
"""

import io
import os
import sys
import tarfile


def regular(name, data=b"evil\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, io.BytesIO(data)


def symlink(name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info, None


def hardlink(name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE
    info.linkname = target
    return info, None


def directory(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info, None


def header_only(name, size):
    """A regular file whose header announces `size` bytes that never follow."""
    info = tarfile.TarInfo(name)
    info.size = size
    return info, None


def cases(outside):
    return {
        "dotdot": ("../evil", [regular("../evil")]),
        "absolute": ("/abs/evil", [regular("/abs/evil")]),
        "dotdot_nested": ("dir/../../evil", [directory("dir"), regular("dir/../../evil")]),
        "symlink_escape": ("link/evil", [symlink("link", outside), regular("link/evil")]),
        "symlink_parent": ("up/evil", [symlink("up", ".."), regular("up/evil")]),
        "symlink_dir_escape": (
            "dir/link/evil",
            [directory("dir"), symlink("dir/link", "../.."), regular("dir/link/evil")],
        ),
        "hardlink_absolute": ("passwd", [hardlink("passwd", "/etc/passwd")]),
        "hardlink_dotdot": ("pw", [hardlink("pw", "../../../../etc/passwd")]),
        "hardlink_through_symlink": (
            "stolen",
            [symlink("link", outside), hardlink("stolen", "link/secret")],
        ),
        "whiteout_parent": ("dir/.wh...", [directory("dir"), regular("dir/.wh...", b"")]),
        "huge": ("big", [regular("small"), header_only("big", 1 << 40)]),
        # Not refused, but must stay inside: the file replaces the symlink, it is not written
        # through it.
        "symlink_overwrite": ("-", [symlink("victim", os.path.join(outside, "victim")),
                                    regular("victim", b"replaced\n")]),
    }


def main():
    if len(sys.argv) != 3 or not os.path.isabs(sys.argv[2]):
        sys.exit("usage: make_hostile.py OUTPUT_DIR ABSOLUTE_OUTSIDE_DIR")
    output, outside = sys.argv[1], sys.argv[2]
    os.makedirs(output, exist_ok=True)
    for case, (entry, members) in cases(outside).items():
        with tarfile.open(os.path.join(output, case + ".tar"), "w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in members:
                tar.addfile(info, data)
        print(case, entry)


if __name__ == "__main__":
    main()
