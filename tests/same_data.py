"""Whether two renders hold the same objects as data, whatever their key order: `python tests/same_data.py
OLD.yaml NEW.yaml`. Exit 0 when every document is equal as data (mappings compared as mappings, lists in
order), 1 otherwise, naming the first difference. Used to show that a change of key order (the typed objects,
ARCHITECTURE.md) changed nothing else."""

import sys

import yaml


def difference(old, new, at="$"):
    """The path of the first difference between two YAML values, or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if key not in old or key not in new:
                return f"{at}.{key}: only in {'new' if key not in old else 'old'}"
            found = difference(old[key], new[key], f"{at}.{key}")
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return f"{at}: {len(old)} items, now {len(new)}"
        for i, (a, b) in enumerate(zip(old, new)):
            found = difference(a, b, f"{at}[{i}]")
            if found:
                return found
        return None
    if type(old) is not type(new) or old != new:
        return f"{at}: {old!r} is now {new!r}"
    return None


def main(old_path, new_path):
    with open(old_path) as f:
        old = [d for d in yaml.safe_load_all(f) if d is not None]
    with open(new_path) as f:
        new = [d for d in yaml.safe_load_all(f) if d is not None]
    found = difference(old, new)
    if found:
        print(f"{new_path}: differs from {old_path} at {found}")
        return 1
    print(f"{new_path}: the same {len(new)} objects as {old_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
