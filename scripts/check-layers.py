#!/usr/bin/env python3
"""Checks the layering of src/: no module cycle, and natx a floor.

A module is a .c file with its same-named .h (src/delivery/nattel_spool.c
and src/delivery/nattel_spool.h); a header without a .c is its own module.
Module A uses B when A's .c or .h #includes B's header, or when A's object
references a symbol that only B's object defines. The objects are the ones
the build produced (BUILD/CMakeFiles/*.dir/src/**/*.o), read with nm, so
run this after a build (`make check-layers` does).

Fails (exit 1) on:
  - a cycle: every strongly connected component of more than one module,
    with the edges inside it and the includes and symbols behind each;
  - the natx floor: a file of src/natx/ including a src/ header outside
    natx/ (public <nattel/...> and system headers are fine), or a natx
    object referencing a nattel__ symbol or a symbol that a non-natx
    object defines;
  - a layer reaching up: a module of one folder using a module of a folder
    above it in LAYERS (bottom up). Headers at the top of src/ (the gathered
    limits, constants only) may be read by every layer.
Notes only (no failure yet): the applications (src/tool, src/serve,
src/flusher) including library-internal headers or calling nattel__
functions.

Usage: scripts/check-layers.py [--root DIR] [BUILD]   (BUILD default: build,
relative to the root, which defaults to this script's repository).
"""
import argparse
import glob
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
APPS = ("tool/", "serve/", "flusher/")
# The folders of src/, bottom up (docs/design.md, section 8). A module may
# use modules of its own folder and of the folders below it.
LAYERS = ["natx", "json", "model", "codec", "transport", "config", "consent",
          "delivery", "hook", "flusher", "serve", "tool"]
# The applications sit side by side: none of them uses another (serve is
# linked into the tool, which may use it).
SAME_RANK = {"flusher": "flusher", "serve": "flusher", "tool": "tool"}


def rank(mod):
    """The layer of a module, or None for files at the top of src/."""
    folder = mod.split("/", 1)[0] if "/" in mod else None
    if folder is None or folder not in LAYERS:
        return None
    return LAYERS.index(SAME_RANK.get(folder, folder))


def reaching_up(edges):
    """Edges from a lower layer to a higher one."""
    out = []
    for (a, b), why in sorted(edges.items()):
        ra, rb = rank(a), rank(b)
        if ra is not None and rb is not None and ra < rb:
            out.append((a, b, why))
    return out


def module_of(rel):
    """src-relative path of a .c, .h or .c.o file -> module name."""
    for ext in (".c.o", ".c", ".h"):
        if rel.endswith(ext):
            return rel[: -len(ext)]
    return None


def resolve(root, src_file, kind, name):
    """Where an #include lands: ('src', rel path) for a src/ header,
    ('public', name) for include/, ('system', name) otherwise."""
    src = os.path.join(root, "src")
    dirs = [os.path.dirname(src_file)] if kind == '"' else []
    for d in dirs + [src]:
        path = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(path) and path.startswith(src + os.sep):
            return "src", os.path.relpath(path, src)
    if os.path.isfile(os.path.join(root, "include", name)):
        return "public", name
    return "system", name


def read_includes(root):
    """[(module, file, line, kind, target)] for every src/ file."""
    out = []
    src = os.path.join(root, "src")
    for path in sorted(glob.glob(os.path.join(src, "**", "*.[ch]"), recursive=True)):
        rel = os.path.relpath(path, src)
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, text in enumerate(f, 1):
                m = INCLUDE.match(text)
                if m:
                    where, target = resolve(root, path, m.group(1), m.group(2))
                    out.append((module_of(rel), "src/" + rel, n, where, target))
    return out


def nm(args, obj):
    res = subprocess.run(["nm", "-P"] + args + [obj], capture_output=True,
                         text=True, check=True)
    return [line.split() for line in res.stdout.splitlines() if line.strip()]


def read_objects(build, src):
    """{module: (defined global symbols, undefined symbols)} from the objects.
    An object whose source is gone (a file moved since that build) is stale
    and left out: it would tie today's modules to yesterday's names."""
    objs = {}
    for obj in glob.glob(os.path.join(build, "CMakeFiles", "*.dir", "src", "**", "*.o"),
                         recursive=True):
        rel = obj.split(os.sep + "src" + os.sep, 1)[1]
        if not os.path.exists(os.path.join(src, rel[:-2])):
            continue
        mod = module_of(rel)
        defined = {f[0] for f in nm(["--defined-only"], obj) if f[1].isupper()}
        undefined = {f[0] for f in nm(["-u"], obj)}
        d, u = objs.setdefault(mod, (set(), set()))
        d |= defined
        u |= undefined
    return objs


def build_graph(modules, includes, objs):
    """{(a, b): [reasons]} for every module a that uses another module b."""
    edges = {}
    for mod, file, line, where, target in includes:
        dep = module_of(target) if where == "src" else None
        if dep and dep != mod and dep in modules:
            edges.setdefault((mod, dep), []).append(f"{file}:{line} includes {target}")
    owners = {}
    for mod, (defined, _) in objs.items():
        for sym in defined:
            owners.setdefault(sym, set()).add(mod)
    for mod, (_, undefined) in objs.items():
        for sym in sorted(undefined):
            who = owners.get(sym, ())
            if len(who) == 1 and mod not in who:
                edges.setdefault((mod, next(iter(who))), []).append("uses " + sym)
    return edges, owners


def cycles(modules, edges):
    """Strongly connected components of more than one module (Tarjan)."""
    succ = {m: [] for m in modules}
    for a, b in edges:
        succ[a].append(b)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for m in sorted(modules):
        if m not in index:
            visit(m)
    return sorted(out)


def first_line(root, mod, sym):
    """file:line where a natx module's source names `sym` (else the file)."""
    for ext in (".c", ".h"):
        path = os.path.join(root, "src", mod + ext)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, text in enumerate(f, 1):
                if re.search(r"\b%s\b" % re.escape(sym), text):
                    return f"src/{mod}{ext}:{n}"
    return f"src/{mod}.c"


def floor_violations(root, includes, objs, owners):
    bad = []
    for mod, file, line, where, target in includes:
        if mod.startswith("natx/") and where == "src" and not target.startswith("natx/"):
            bad.append(f"{file}:{line}: includes private header {target}")
    for mod, (_, undefined) in sorted(objs.items()):
        if not mod.startswith("natx/"):
            continue
        for sym in sorted(undefined):
            others = sorted(o for o in owners.get(sym, ()) if not o.startswith("natx/"))
            if sym.startswith("nattel__") or others:
                by = f" (defined by {', '.join(others)})" if others else ""
                bad.append(f"{first_line(root, mod, sym)}: references {sym}{by}")
    return bad


def app_notes(includes, objs):
    """{internal header or nattel__ symbol: {app files using it}}."""
    notes = {}
    for mod, file, line, where, target in includes:
        if (mod.startswith(APPS) and where == "src"
                and not target.startswith(APPS + ("natx/",))):
            notes.setdefault(target, set()).add(file)
    for mod, (_, undefined) in objs.items():
        for sym in undefined:
            if mod.startswith(APPS) and sym.startswith("nattel__"):
                notes.setdefault(sym + "()", set()).add(f"src/{mod}.c")
    return notes


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Exit 0: no cycle and natx a floor; 1: "
                                        "violations (listed); 2: no objects found.")
    ap.add_argument("build", nargs="?", default="build",
                    help="the build directory (default: build, under the root)")
    ap.add_argument("--root", default=here, help="the source tree (default: %(default)s)")
    opt = ap.parse_args()
    root = os.path.abspath(opt.root)
    build = os.path.join(root, opt.build)

    objs = read_objects(build, os.path.join(root, "src"))
    if not objs:
        print(f"check-layers: no object files under {build}/CMakeFiles/*.dir/src: "
              "build first", file=sys.stderr)
        return 2
    includes = read_includes(root)
    modules = {module_of(os.path.relpath(p, os.path.join(root, "src")))
               for p in glob.glob(os.path.join(root, "src", "**", "*.[ch]"), recursive=True)}
    modules |= set(objs)
    edges, owners = build_graph(modules, includes, objs)

    found = cycles(modules, edges)
    for comp in found:
        print(f"error: module cycle ({len(comp)} modules): {', '.join(comp)}")
        for (a, b), why in sorted(edges.items()):
            if a in comp and b in comp:
                print(f"  {a} -> {b}: {'; '.join(why)}")
    bad = floor_violations(root, includes, objs, owners)
    for b in bad:
        print(f"error: natx is not a floor: {b}")

    up = reaching_up(edges)
    for a, b, why in up:
        print(f"error: layer reaches up: {a} -> {b}: {'; '.join(why)}")

    notes = app_notes(includes, objs)
    if notes:
        files = {f for fs in notes.values() for f in fs}
        print(f"note: applications use {len(notes)} library-internal headers and "
              f"functions (from {len(files)} files), not only the public API and natx:")
        for what, fs in sorted(notes.items()):
            print(f"note:   {what} <- {', '.join(sorted(fs))}")

    head = f"layers: {len(modules)} modules, {len(edges)} edges"
    if found or bad or up:
        print(f"{head}, {len(found)} cycles; natx floor: {len(bad)} violations; "
              f"{len(up)} edges reaching up")
        return 1
    print(f"{head}, no cycle; natx is a floor; no layer reaches up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
