#!/usr/bin/env python3
"""scripts/check-layers.py on tiny fake trees, compiled here.

1. A clean tree (natx at the bottom, a library module over it, an
   application over both) passes with the summary line.
2. A tree with an include cycle (a.h <-> b.h), a symbol cycle (c.c calls
   d.c, d.c calls c.c) and a natx file including a private header and
   calling a nattel__ function fails, naming the modules of each cycle, the
   edges with their include or symbol, and each natx violation with its
   file and line (a call of the library's public code included).
3. An application including a library-internal header is a note, not a
   failure.
"""
import os
import subprocess
import sys
import tempfile

import nattel_testlib as tl
from nattel_testlib import check

SOURCE = os.environ.get("NATTEL_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__)))))
SCRIPT = os.path.join(SOURCE, "scripts", "check-layers.py")
CC = os.environ.get("NATTEL_CC", "cc")


def write_tree(root, files):
    """Writes src/ files and compiles every .c to where CMake would put it."""
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    os.makedirs(os.path.join(root, "include", "nattel"), exist_ok=True)
    with open(os.path.join(root, "include", "nattel", "nattel.h"), "w") as f:
        f.write("int nattel_public(void);\n")
    for rel in files:
        if rel.endswith(".c"):
            obj = os.path.join(root, "build", "CMakeFiles", "fake.dir", rel + ".o")
            os.makedirs(os.path.dirname(obj), exist_ok=True)
            subprocess.run([CC, "-c", "-I", os.path.join(root, "src"),
                            "-I", os.path.join(root, "include"),
                            os.path.join(root, rel), "-o", obj], check=True)


def run(root):
    res = subprocess.run([sys.executable, SCRIPT, "--root", root, "build"],
                         capture_output=True, text=True)
    return res.returncode, res.stdout + res.stderr


CLEAN = {
    "src/natx/natx_buf.h": "#include <nattel/nattel.h>\nint natx_buf(void);\n",
    "src/natx/natx_buf.c": '#include "natx/natx_buf.h"\nint natx_buf(void) { return 1; }\n',
    "src/model/nattel_a.h": "int nattel__a(void);\n",
    "src/model/nattel_a.c": '#include "model/nattel_a.h"\n#include "natx/natx_buf.h"\n'
                            "int nattel__a(void) { return natx_buf(); }\n",
    "src/tool/main.c": '#include "natx/natx_buf.h"\n#include <stdio.h>\n'
                       "int main(void) { return natx_buf(); }\n",
}

BROKEN = {
    # an include cycle between two library modules
    "src/model/nattel_a.h": '#pragma once\n#include "model/nattel_b.h"\nint nattel__a(void);\n',
    "src/model/nattel_a.c": '#include "model/nattel_a.h"\nint nattel__a(void) { return 1; }\n',
    "src/model/nattel_b.h": '#pragma once\n#include "model/nattel_a.h"\nint nattel__b(void);\n',
    "src/model/nattel_b.c": '#include "model/nattel_b.h"\nint nattel__b(void) { return 2; }\n'
                            "int nattel_b_public(void) { return 3; }\n",
    # a cycle only the objects show: each calls the other, no header
    "src/codec/nattel_c.c": "int nattel__c(int);\nint nattel__d(int);\n"
                            "int nattel__c(int n) { return n ? nattel__d(n - 1) : 0; }\n",
    "src/codec/nattel_d.c": "int nattel__c(int);\nint nattel__d(int);\n"
                            "int nattel__d(int n) { return n ? nattel__c(n - 1) : 1; }\n",
    # natx reaching up into the library
    "src/natx/natx_jsonw.h": "int natx_jsonw(void);\n",
    "src/natx/natx_jsonw.c": '#include "natx/natx_jsonw.h"\n'
                             '#include "model/nattel_a.h"\n'
                             "#include <string.h>\n"
                             "int natx_jsonw(void) { return nattel__a(); }\n",
    # natx calling the library's public code: still up, not down
    "src/natx/natx_io.c": "int nattel_b_public(void);\nint natx_io(void);\n"
                          "int natx_io(void) { return nattel_b_public(); }\n",
    # an application using an internal header: a note only
    "src/flusher/main.c": '#include "model/nattel_a.h"\nint main(void) { return nattel__a(); }\n',
}


def test_clean(tmp):
    root = os.path.join(tmp, "clean")
    write_tree(root, CLEAN)
    code, out = run(root)
    check(code == 0, f"a clean tree passes (exit {code}):\n{out}")
    check("layers: 3 modules, " in out and "no cycle; natx is a floor" in out,
          f"the summary line says so:\n{out}")
    check("note:" not in out and "error:" not in out, f"nothing else said:\n{out}")


def test_broken(tmp):
    root = os.path.join(tmp, "broken")
    write_tree(root, BROKEN)
    code, out = run(root)
    check(code == 1, f"a tree with cycles fails (exit {code}):\n{out}")
    check("module cycle (2 modules): model/nattel_a, model/nattel_b" in out,
          f"the include cycle is named:\n{out}")
    check("model/nattel_a -> model/nattel_b: src/model/nattel_a.h:2 includes "
          "model/nattel_b.h" in out, f"its edge names the include:\n{out}")
    check("module cycle (2 modules): codec/nattel_c, codec/nattel_d" in out,
          f"the symbol cycle is named:\n{out}")
    check("codec/nattel_c -> codec/nattel_d: uses nattel__d" in out
          and "codec/nattel_d -> codec/nattel_c: uses nattel__c" in out,
          f"its edges name the symbols:\n{out}")
    check("src/natx/natx_jsonw.c:2: includes private header model/nattel_a.h" in out,
          f"the natx include is named with its line:\n{out}")
    check("src/natx/natx_jsonw.c:4: references nattel__a (defined by model/nattel_a)"
          in out, f"the natx call is named with its line:\n{out}")
    check("src/natx/natx_io.c:1: references nattel_b_public (defined by model/nattel_b)"
          in out, f"a natx call of any library symbol is named:\n{out}")
    check("string.h" not in out, f"system headers are fine in natx:\n{out}")
    check("note:   model/nattel_a.h <- src/flusher/main.c" in out
          and "note:   nattel__a() <- src/flusher/main.c" in out,
          f"the application's internal use is a note:\n{out}")
    check("2 cycles; natx floor: 3 violations" in out, f"the summary counts them:\n{out}")


# No cycle, but the model calls into the codec and consent into delivery:
# folders used from below. Files at the top of src/ (the limits) are
# readable from every layer above the floor.
UPWARD = {
    "src/nattel_limits.h": "#define NATTEL__X 1\n",
    "src/codec/nattel_c.h": "int nattel__c(void);\n",
    "src/codec/nattel_c.c": '#include "codec/nattel_c.h"\n#include "nattel_limits.h"\n'
                            "int nattel__c(void) { return NATTEL__X; }\n",
    "src/model/nattel_m.c": "int nattel__c(void);\nint nattel__m(void) { return nattel__c(); }\n",
    "src/delivery/nattel_d.h": "int nattel__d(void);\n",
    "src/delivery/nattel_d.c": '#include "delivery/nattel_d.h"\nint nattel__d(void) { return 2; }\n',
    "src/consent/nattel_k.c": '#include "delivery/nattel_d.h"\n'
                              "int nattel__k(void) { return nattel__d(); }\n",
}


def test_reaching_up(tmp):
    root = os.path.join(tmp, "upward")
    write_tree(root, UPWARD)
    code, out = run(root)
    check(code == 1, f"a layer reaching up fails (exit {code}):\n{out}")
    check("error: layer reaches up: model/nattel_m -> codec/nattel_c: uses nattel__c"
          in out, f"the symbol edge from model to codec is named:\n{out}")
    check("error: layer reaches up: consent/nattel_k -> delivery/nattel_d: "
          "src/consent/nattel_k.c:1 includes delivery/nattel_d.h" in out,
          f"the include from consent to delivery is named:\n{out}")
    check("nattel_limits" not in out.split("layers:")[0],
          f"the limits at the top of src/ may be read from any layer:\n{out}")
    check("0 cycles; natx floor: 0 violations; 2 edges reaching up" in out,
          f"the summary counts them:\n{out}")


def test_no_build(tmp):
    root = os.path.join(tmp, "unbuilt")
    os.makedirs(os.path.join(root, "src"))
    code, out = run(root)
    check(code == 2 and "build first" in out, f"no objects: says to build (exit {code}):\n{out}")


def main():
    base = os.environ.get("NATTEL_TEST_TMP")
    if base:
        os.makedirs(base, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix="check-layers.") as tmp:
        test_clean(tmp)
        test_broken(tmp)
        test_reaching_up(tmp)
        test_no_build(tmp)
    tl.finish()


if __name__ == "__main__":
    main()
