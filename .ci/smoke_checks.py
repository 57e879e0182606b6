"""The counted check both smoke tests make (uapi-smoke.py, postgres-smoke.py). Standard library only."""

passed = 0


def check(condition, message):
    """Fails the smoke test with `message` unless `condition` holds; counts the check."""
    global passed
    if not condition:
        raise SystemExit(f"FAIL: {message}")
    passed += 1
