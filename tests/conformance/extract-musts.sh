#!/bin/bash
# extract-musts.sh [-s SPEC_DIR] [-t TAP_LOG] > MUSTS.md
#
# Re-derives tests/conformance/MUSTS.md: one row per line of the OCI
# runtime-spec that holds MUST, MUST NOT or REQUIRED (the spec writes one
# sentence per line, so a line is a sentence), with
#   id        FILE.md#L<line>
#   quote     the line, markdown links stripped, shortened
#   obliges   who must act, and a note (from musts-annotations.tsv)
#   checks    the checks that verify it: taken from TAP_LOG (the output of
#             run.sh: "ok N - <id> <desc>", with the result) when given,
#             else from the test sources (test_*.sh lines naming the id).
# A row with neither checks nor an annotation is marked TODO, so a new spec
# version shows what is left to classify.  musts-annotations.tsv lines are
#   <id or FILE.md#L<from>-<to>> TAB <obliges> TAB <note / reason not testable>
# and the first matching line wins.
# SPEC_DIR defaults to $RUNTIME_SPEC_DIR, else the reference copy this
# project was written against (/work/shared/reference/runtime-spec).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SPEC=${RUNTIME_SPEC_DIR:-/work/shared/reference/runtime-spec}
TAP=
while getopts s:t: o; do
	case $o in
	s) SPEC=$OPTARG ;;
	t) TAP=$OPTARG ;;
	*) echo "usage: $0 [-s SPEC_DIR] [-t TAP_LOG]" >&2; exit 2 ;;
	esac
done
[ -f "$SPEC/config.md" ] || { echo "extract-musts.sh: no runtime-spec at $SPEC (use -s)" >&2; exit 1; }
ANN=$HERE/musts-annotations.tsv
FILES="spec.md glossary.md bundle.md runtime.md runtime-linux.md config.md config-linux.md config-vm.md features.md features-linux.md"

python3 - "$SPEC" "$ANN" "$TAP" "$HERE" $FILES <<'EOF'
import os, re, sys, glob

spec, ann_path, tap, here = sys.argv[1:5]
files = sys.argv[5:]

def clean(s):
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)      # [text](url)
    s = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", s)      # [text][ref]
    s = re.sub(r"\[\^\d+\]", "", s)                      # footnotes
    s = re.sub(r"<a name=\"[^\"]*\" */>", "", s)
    s = s.replace("**", "").strip(" *|\t")
    s = re.sub(r"\s+", " ", s)
    if len(s) > 150:
        # keep the part around the first MUST/REQUIRED
        m = re.search(r"MUST|REQUIRED", s)
        start = max(0, (m.start() if m else 0) - 60)
        s = ("…" if start else "") + s[start:start + 150] + "…"
    return s.replace("|", "\\|")

# annotations
ann = []
if os.path.exists(ann_path):
    for line in open(ann_path, encoding="utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.rstrip("\n").split("\t")
        while len(parts) < 3:
            parts.append("")
        key, obliges, note = parts[0].strip(), parts[1].strip(), parts[2].strip()
        m = re.match(r"^([\w.-]+\.md)#L(\d+)(?:-L?(\d+))?$", key)
        if not m:
            sys.exit("musts-annotations.tsv: bad id %r" % key)
        f, a, b = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
        ann.append((f, a, b, obliges, note))

def annotation(f, n):
    for af, a, b, obliges, note in ann:
        if af == f and a <= n <= b:
            return obliges, note
    return None, None

# checks per id
checks = {}
idre = re.compile(r"([\w.-]+\.md#L\d+)")
if tap:
    for line in open(tap, encoding="utf-8", errors="replace"):
        m = re.match(r"^(not ok|ok) \d+ - ([\w.-]+\.md#L\d+) (.*)$", line.rstrip("\n"))
        if not m:
            continue
        res, cid, desc = m.groups()
        desc = desc.strip()
        if "# SKIP" in desc:
            res = "skip"
            desc = desc.split("# SKIP")[0].strip()
        checks.setdefault(cid, []).append((res, desc))
    tests_of = {}
    suite = None
else:
    for path in sorted(glob.glob(os.path.join(here, "test_*.sh"))):
        name = os.path.basename(path)
        for line in open(path, encoding="utf-8"):
            for cid in idre.findall(line):
                m = re.search(re.escape(cid) + r"\"?\s+\"([^\"]*)\"", line)
                desc = m.group(1) if m else "(see source)"
                checks.setdefault(cid, []).append((name, desc))

# which test file printed which check (from the TAP log's "# test_x" headers)
file_of = {}
if tap:
    cur = None
    for line in open(tap, encoding="utf-8", errors="replace"):
        m = re.match(r"^# (test_\w+)$", line.strip())
        if m:
            cur = m.group(1) + ".sh"
            continue
        m = re.match(r"^(?:not ok|ok) \d+ - ([\w.-]+\.md#L\d+) (.*)$", line.rstrip("\n"))
        if m and cur:
            file_of.setdefault((m.group(1), m.group(2).split("# SKIP")[0].strip()), cur)

rows, stats = [], {"total": 0, "tested": 0, "untestable": 0, "todo": 0}
for f in files:
    p = os.path.join(spec, f)
    if not os.path.exists(p):
        continue
    for n, line in enumerate(open(p, encoding="utf-8"), 1):
        if not re.search(r"\b(MUST|REQUIRED)\b", line):
            continue
        cid = "%s#L%d" % (f, n)
        obliges, note = annotation(f, n)
        cs = checks.get(cid, [])
        m = re.match(r"^same as ([\w.-]+\.md#L\d+)", note or "")
        if not cs and m:
            # a sentence restating another one: the other's checks verify it
            cs = [(r, d) for r, d in checks.get(m.group(1), [])]
            if cs and tap:
                for r, d in cs:
                    file_of.setdefault((cid, d), file_of.get((m.group(1), d), "?"))
        stats["total"] += 1
        if cs:
            stats["tested"] += 1
            if tap:
                parts = []
                # failures first, so a long row never hides one behind "+N more"
                cs = sorted(cs, key=lambda c: {"not ok": 0, "skip": 1, "ok": 2}[c[0]])
                for res, desc in cs[:6]:
                    mark = {"ok": "✓", "not ok": "✗", "skip": "skip"}[res]
                    parts.append("%s `%s: %s`" % (mark, file_of.get((cid, desc), "?"), desc.replace("|", "\\|").replace("`", "'")[:90]))
                if len(cs) > 6:
                    parts.append("… +%d more" % (len(cs) - 6))
            else:
                parts = ["`%s: %s`" % (t, d.replace("|", "\\|").replace("`", "'")[:90]) for t, d in cs[:6]]
            where = "<br>".join(parts)
            if note:
                where += "<br>" + note
        elif obliges:
            stats["untestable"] += 1
            where = "not tested: " + (note or "(no reason given)")
        else:
            stats["todo"] += 1
            where = "TODO"
        rows.append("| `%s` | %s | %s | %s |" % (cid, clean(line), obliges or "?", where))

print("# MUST / MUST NOT / REQUIRED in the OCI runtime-spec, and what checks them")
print()
print("Generated by `tests/conformance/extract-musts.sh%s` from the runtime-spec text%s;"
      % (" -t <run.sh log>" if tap else "", " and a run of the suite" if tap else ""))
print("notes and the \"not testable\" reasons come from `tests/conformance/musts-annotations.tsv`.")
print("One row per spec line holding MUST/REQUIRED (the spec writes one sentence per line).")
if tap:
    print("✓ passed, ✗ failed, skip = could not run on the host of that run.")
print()
print("**%d rows: %d checked by a test, %d not testable by a runtime test (reason given), %d unclassified.**"
      % (stats["total"], stats["tested"], stats["untestable"], stats["todo"]))
print()
print("| id | spec text | obliges | checked by |")
print("|---|---|---|---|")
for r in rows:
    print(r)
EOF
