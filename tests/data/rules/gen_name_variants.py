#!/usr/bin/env python3
"""Write name_variants.tsv: every commune code whose full name differs between
data/admin-units/units-2026-07-25.json (FullName) and merges-2025-07-01.json
(level2s[].name) even after Unicode NFC. Run by hand from the repository root:

    python3 tests/data/rules/gen_name_variants.py > tests/data/rules/name_variants.tsv

Column `expect`: `same` when the two spell one name (tone-mark placement,
apostrophe style, case); `renamed` when the unit type changed (the 2026 Đồng Nai
changes, Xã -> Phường), i.e. the names after the first word are the same.
"""
import json
import os
import unicodedata

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
UNITS = os.path.join(ROOT, "data", "admin-units", "units-2026-07-25.json")
MERGES = os.path.join(ROOT, "data", "admin-units", "merges-2025-07-01.json")


def nfc(s):
    return unicodedata.normalize("NFC", s)


def main():
    with open(UNITS, encoding="utf-8") as f:
        units = {w["Code"]: (p["Code"], w["FullName"]) for p in json.load(f) for w in p["Wards"]}
    with open(MERGES, encoding="utf-8") as f:
        merges = {l2["level2_id"]: l2["name"] for d in json.load(f)["data"] for l2 in d["level2s"]}
    print("# code\tprovince\tunits FullName\tmerges name\texpect")
    for code in sorted(units):
        province, new = units[code]
        old = merges.get(code)
        if old is None or nfc(new) == nfc(old):
            continue
        first_new, _, rest_new = new.partition(" ")
        first_old, _, rest_old = old.partition(" ")
        renamed = first_new.lower() != first_old.lower() and nfc(rest_new) == nfc(rest_old)
        print(f"{code}\t{province}\t{new}\t{old}\t{'renamed' if renamed else 'same'}")


if __name__ == "__main__":
    main()
