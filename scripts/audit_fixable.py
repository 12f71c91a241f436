"""Read a ``pip-audit --format json`` report; fail on a vulnerability that has a fixed version.

A known vulnerability with no fix yet cannot be acted on by upgrading, so it is listed but does
not fail the run; one with ``fix_versions`` means: upgrade it in uv.lock
(``uv lock --upgrade-package NAME``). Packages the vulnerability service could not check are
counted and named, so a run that audited nothing never reads as a clean bill of health; with
``ALPHADESK_AUDIT_STRICT=1`` such a run fails.

Usage: python scripts/audit_fixable.py REPORT.json
Exit: 0 nothing to fix, 1 something to fix (or, strict, something unchecked), 2 unreadable report.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    try:
        report: dict[str, Any] = json.loads(Path(argv[1]).read_text() or "{}")
        dependencies: list[dict[str, Any]] = report["dependencies"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"audit: unreadable pip-audit report {argv[1]}: {exc}", file=sys.stderr)
        return 2
    fixable, unfixed, skipped = [], [], []
    for dep in dependencies:
        name, version = dep.get("name", "?"), dep.get("version", "?")
        if "skip_reason" in dep:
            skipped.append(name)
            continue
        for vuln in dep.get("vulns", []):
            fixes = vuln.get("fix_versions") or []
            aliases = ", ".join(vuln.get("aliases") or [])
            line = f"{name} {version}: {vuln.get('id')}" + (f" ({aliases})" if aliases else "")
            if fixes:
                fixable.append(f"{line} fixed in {', '.join(fixes)}")
            else:
                unfixed.append(f"{line} no fix released yet")
    audited = len(dependencies) - len(skipped)
    print(f"audit: {audited} of {len(dependencies)} locked packages checked; "
          f"{len(fixable)} vulnerabilities with a fix, {len(unfixed)} without one")
    for line in unfixed:
        print(f"  known, no fix yet: {line}")
    for line in fixable:
        print(f"  FIX AVAILABLE: {line}")
    strict = os.environ.get("ALPHADESK_AUDIT_STRICT", "0") in ("1", "true", "yes")
    if skipped:
        shown = ", ".join(skipped[:8]) + (" ..." if len(skipped) > 8 else "")
        print(f"  INCOMPLETE: {len(skipped)} packages could not be checked (the vulnerability "
              f"service did not answer for them): {shown}")
    if fixable:
        print("audit: upgrade them: uv lock --upgrade-package NAME")
        return 1
    return 1 if skipped and strict else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
