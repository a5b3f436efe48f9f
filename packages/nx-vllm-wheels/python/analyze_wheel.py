#!/usr/bin/env python3
"""Analyze a wheel's binaries the way ``auditwheel show`` / ``repair`` do, and print JSON.

Run with the python of the plugin's tools venv (auditwheel pinned there, see
src/lib/tools/requirements.ts): ``python -I analyze_wheel.py WHEEL [--exclude GLOB]...``.

It calls auditwheel's own analysis (``auditwheel.wheel_abi.analyze_wheel_abi``, the function behind
``auditwheel show`` and ``repair``; internal API, hence the exact pin) and reads every ELF file of the
wheel with auditwheel's ``lddtree.ldd``. ``--exclude`` takes the globs of ``auditwheel repair
--exclude``: libraries that come from another wheel at run time (torch's) and must never be copied
in. They are matched, as auditwheel does, against each DT_NEEDED soname and the resolved path.

Output (one JSON object on stdout; exit 0; exit 2 with {"error": ...} when the wheel cannot be
analyzed):

- ``tag``: the most permissive manylinux policy the wheel qualifies for by its versioned symbols,
  blacklisted symbols and UCS-2/PyFPE use (``linux_<arch>`` when none). Not by ISA extensions: an
  ISA variant is meant to need them (reported apart as ``isa``), and not by external libraries
  (reported apart: the caller decides).
- ``aliases``: the legacy names of ``tag`` (manylinux2014_x86_64 for manylinux_2_17_x86_64).
- ``externalLibs``: soname -> {path, neededBy} of the libraries that would have to be grafted for
  ``tag`` (neither in the wheel, nor in the policy's whitelist, nor excluded).
- ``excluded``: sonames matched by --exclude, with the ELF files that need them.
- ``elfs``: per ELF member: soname, DT_NEEDED, RPATH and RUNPATH (as written), ISA level, what each
  needed library resolved to.
- ``policies``: every manylinux policy of the arch with the symbol versions the wheel needs beyond
  it (``missingSymbols``) and the libraries it would need grafted, so a caller can explain a refusal.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import tempfile
import zipfile
from pathlib import Path

from auditwheel.error import AuditwheelError, NonPlatformWheelError, WheelToolsError
from auditwheel.lddtree import ldd
from auditwheel.wheel_abi import analyze_wheel_abi
from auditwheel.wheeltools import get_wheel_architecture, get_wheel_libc
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

FORMAT_VERSION = 1


def _dynamic_tags(path: Path) -> dict:
    """DT_SONAME, DT_NEEDED, DT_RPATH and DT_RUNPATH exactly as written in the file."""
    out: dict = {"soname": None, "needed": [], "rpath": [], "runpath": []}
    with path.open("rb") as f:
        elf = ELFFile(f)
        for section in elf.iter_sections():
            if not isinstance(section, DynamicSection):
                continue
            for tag in section.iter_tags():
                kind = tag.entry.d_tag
                if kind == "DT_SONAME":
                    out["soname"] = tag.soname
                elif kind == "DT_NEEDED":
                    out["needed"].append(tag.needed)
                elif kind == "DT_RPATH":
                    out["rpath"] = [p for p in tag.rpath.split(":") if p]
                elif kind == "DT_RUNPATH":
                    out["runpath"] = [p for p in tag.runpath.split(":") if p]
    return out


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def _required_versions(versioned_symbols: dict[str, set[str]]) -> dict[str, set[str]]:
    """{"GLIBC": {"GLIBC_2.2.5", ...}, "GLIBCXX": {...}} as auditwheel's versioned_symbols_policy groups them."""
    required: dict[str, set[str]] = {}
    for symbols in versioned_symbols.values():
        for symbol in symbols:
            required.setdefault(symbol.partition("_")[0], set()).add(symbol)
    return required


def _missing_symbols(policy, required: dict[str, set[str]]) -> list[str]:
    missing: set[str] = set()
    for prefix, versions in policy.symbol_versions.items():
        allowed = {f"{prefix}_{v}" for v in versions}
        missing |= required.get(prefix, set()) - allowed
    return sorted(missing)


def _inside(path, root: Path) -> str | None:
    """The wheel member path of a file extracted under root, or None when it is elsewhere."""
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _elf_members(wheel: Path, root: Path, exclude: frozenset[str]) -> list[dict]:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(root)
        names = sorted(n for n in zf.namelist() if not n.endswith("/"))
    elfs = []
    for name in names:
        path = root / name
        if name.endswith(".py") or not path.is_file() or not _is_elf(path):
            continue
        tags = _dynamic_tags(path)
        tree = ldd(path, exclude=exclude)
        try:
            isa = tree.platform.extended_architecture
        except ValueError:
            isa = None
        resolved = {}
        for soname in tree.needed:
            lib = tree.libraries.get(soname)
            inner = _inside(lib.realpath if lib else None, root)
            if lib is None or lib.realpath is None:
                resolved[soname] = None
            elif inner is not None:
                resolved[soname] = {"path": inner, "inWheel": True}
            else:
                resolved[soname] = {"path": str(lib.realpath), "inWheel": False}
        elfs.append(
            {
                "path": name,
                **tags,
                "isa": isa.value if isa is not None else None,
                "excluded": [n for n in tags["needed"] if n not in tree.needed],
                "resolved": resolved,
                # What the libraries found outside the wheel need in turn (who needs a transitive dependency).
                "_outside": {
                    lib.soname: list(lib.needed)
                    for lib in tree.libraries.values()
                    if lib.realpath is not None and lib.needed and _inside(lib.realpath, root) is None
                },
            }
        )
    return elfs


def analyze(wheel: Path, exclude: frozenset[str]) -> dict:
    fn = wheel.name
    try:
        arch = get_wheel_architecture(fn)
    except (WheelToolsError, NonPlatformWheelError):
        arch = None  # inferred from the ELF files
    try:
        libc = get_wheel_libc(fn)
    except WheelToolsError:
        libc = None  # linux_<arch> says nothing of the libc: inferred from the ELF files
    base = {"version": FORMAT_VERSION, "auditwheel": importlib.metadata.version("auditwheel"), "wheel": fn, "exclude": sorted(exclude)}
    try:
        winfo = analyze_wheel_abi(libc, arch, wheel, exclude, disable_isa_ext_check=False, allow_graft=True)
    except NonPlatformWheelError as e:
        return {**base, "pure": True, "message": e.message}

    policies = winfo.policies
    tag_policy = min(winfo.sym_policy, winfo.ucs_policy, winfo.pyfpe_policy, winfo.blacklist_policy)
    graft_policy = tag_policy if tag_policy != policies.linux else policies.lowest
    required = _required_versions(winfo.versioned_symbols)

    with tempfile.TemporaryDirectory(prefix="analyze-wheel-") as tmp:
        elfs = _elf_members(wheel, Path(tmp), exclude)

    def needed_by(soname: str) -> list[str]:
        users = set()
        for elf in elfs:
            if soname in elf["needed"]:
                users.add(elf["path"])
            for lib, lib_needed in elf["_outside"].items():
                if soname in lib_needed:
                    users.add(lib)
        return sorted(users)

    external_libs = {
        soname: {"path": str(path) if path else None, "neededBy": needed_by(soname)}
        for soname, path in sorted(winfo.external_refs[graft_policy.name].libs.items())
    }
    excluded = {soname: needed_by(soname) for soname in sorted({n for elf in elfs for n in elf["excluded"]})}
    for elf in elfs:
        del elf["_outside"]

    return {
        **base,
        "pure": False,
        "arch": policies.architecture.baseline.value,
        "libc": policies.libc.name.lower(),
        "tag": tag_policy.name,
        "aliases": list(tag_policy.aliases),
        "limits": {
            "symbols": winfo.sym_policy.name,
            "blacklist": winfo.blacklist_policy.name,
            "ucs2": winfo.ucs_policy == policies.linux,
            "pyfpe": winfo.pyfpe_policy == policies.linux,
        },
        "isa": {
            "policy": winfo.machine_policy.name,
            "levels": {elf["path"]: elf["isa"] for elf in elfs if elf["isa"] is not None},
        },
        "versionedSymbols": {k: sorted(v) for k, v in sorted(winfo.versioned_symbols.items())},
        "externalLibs": external_libs,
        "excluded": excluded,
        "elfs": elfs,
        "policies": [
            {
                "name": p.name,
                "aliases": list(p.aliases),
                "priority": p.priority,
                "missingSymbols": _missing_symbols(p, required),
                "externalLibs": sorted(winfo.external_refs[p.name].libs),
                "blacklisted": {k: sorted(v) for k, v in sorted(winfo.external_refs[p.name].blacklist.items())},
            }
            for p in policies
            if p != policies.linux
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="the wheel to analyze")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="a library that must not be grafted (soname or path glob; repeatable)")
    args = parser.parse_args(argv)
    wheel: Path = args.wheel
    if not wheel.is_file():
        print(json.dumps({"version": FORMAT_VERSION, "wheel": wheel.name, "error": f"{wheel} is not a file"}))
        return 2
    try:
        result = analyze(wheel, frozenset(args.exclude))
    except (AuditwheelError, RuntimeError, ValueError, OSError, zipfile.BadZipFile) as e:
        print(json.dumps({"version": FORMAT_VERSION, "wheel": wheel.name, "error": f"{type(e).__name__}: {e}"}))
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
