#!/usr/bin/env python3
"""Interleaved timing of nattel's codec and flusher body against upstream's
Python (pydantic 2, build_payload + json.dumps), for a shared machine where
one run's times mean little: PAIRS rounds of A (bench_codec) then B (the
Python side), so that load drifting over the run hits both alike. Reports
per figure the median of each side and the median of the pairwise ratios,
beside its target, with met / NOT MET.

usage: codec_compare.py BENCH_CODEC BENCH_DIR [--pairs N] [--seconds S]
                        [--instr FILE]
Prints one line per figure, then "key value" lines (prefix "cmp_").
--instr FILE: "NAME_instr N" lines (bench/instr.sh's, as bench/run.sh
collects them): each nattel time is printed with its instructions per
event beside it, the repeatable figure of a shared machine.
Exit 0 always when bench_codec ran; 3 when the Python side is missing.
"""
import statistics
import subprocess
import sys

# (label, nattel key, upstream key, target ratio upstream/nattel)
FIGURES = [
    ("encode vs model_dump_json", "encode_ns", "dump_ns", 25.0),
    ("one-shot nattel_event_from_json vs model_validate_json", "decode_ns", "validate_ns", 12.0),
    ("nattel_event_from_json_into vs model_validate_json", "fill_ns", "validate_ns", 12.0),
    ("reused reader vs model_validate_json", "reader_ns", "validate_ns", 12.0),
    ("flusher body, 1 event vs build_payload+json.dumps", "env1_ns", "up_env1_ns", 1.0),
    ("flusher body, 50 events vs build_payload+json.dumps", "env50_ns", "up_env50_ns", 1.0),
]


def kv(text):
    out = {}
    for line in text.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("%s: exit %d: %s" % (cmd[0], r.returncode, r.stderr.strip()[-300:]))
    return kv(r.stdout)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    codec, bench = args[0], args[1]
    pairs, seconds, instr = 5, 0.3, {}
    rest = args[2:]
    while rest:
        if rest[0] == "--instr" and len(rest) > 1:
            try:
                with open(rest[1]) as f:
                    instr = kv(f.read())
            except OSError as e:
                print("codec_compare: %s" % e, file=sys.stderr)
        elif rest[0] == "--pairs" and len(rest) > 1:
            pairs = int(rest[1])
        elif rest[0] == "--seconds" and len(rest) > 1:
            seconds = float(rest[1])
        else:
            print(__doc__, file=sys.stderr)
            return 2
        rest = rest[2:]
    a_runs, b_runs = [], []
    for _ in range(pairs):
        a_runs.append(run([codec, "--machine", "--seconds", str(seconds), "--rounds", "1"]))
        b = {}
        try:
            b.update(run([sys.executable, bench + "/pydantic_validate.py", "--micro", str(seconds)]))
            b.update(run([sys.executable, bench + "/upstream_envelope.py", "--seconds", str(seconds)]))
        except RuntimeError as e:
            print("unavailable %s" % e)
            return 3
        b_runs.append(b)
    print("%d interleaved pairs (nattel, then Python), %.2f s per timed loop; medians, ns per call"
          % (pairs, seconds))
    for label, nk, uk, target in FIGURES:
        na = [r[nk] for r in a_runs if nk in r]
        ub = [r[uk] for r in b_runs if uk in r]
        ratios = [u / n for n, u in zip(na, ub) if n > 0]
        if not ratios:
            print("  %-55s not measured" % label)
            continue
        rmed = statistics.median(ratios)
        verdict = "met" if rmed >= target else "NOT MET"
        ik = nk[:-len("_ns")] + "_instr"
        ins = " (%.0f instr)" % instr[ik] if ik in instr else ""
        print("  %-55s %9.1f%s vs %10.1f ns: %5.1fx (pairs %.1f-%.1fx; target >= %gx: %s)"
              % (label, statistics.median(na), ins, statistics.median(ub), rmed, min(ratios),
                 max(ratios), target, verdict))
        print("cmp_%s %.2f %s" % (nk, rmed, verdict.replace(" ", "_")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
