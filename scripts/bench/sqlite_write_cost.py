#!/usr/bin/env python3
"""What SQLite itself spends on one event's writes, without the server around it.

Builds a fresh database from migrations/sqlite, then writes events the way the
server does with one rule and ten destinations: per event one transaction that
inserts the event, its alert and its ten deliveries (RETURNING id, msg_id, as a
handed first attempt), then one transaction that records ten delivered attempts
(the attempts insert and the deliveries update of `store::deliveries::record`).
Prints the mean time of each step over the last `--timed` events, in
microseconds. Python's own sqlite3 is used (its SQLite version is printed): the
server's is bundled by libsqlite3-sys, so compare runs of this script with each
other, not with the server's figures.

    scripts/bench/sqlite_write_cost.py                    # the indexes as migrated (0016: three without status and retry)
    scripts/bench/sqlite_write_cost.py --drop-wide        # without migration 0014's five covering indexes
    scripts/bench/sqlite_write_cost.py --ordered-ids      # msg_id / public_id that grow with time
    scripts/bench/sqlite_write_cost.py --moved            # the three as before 0016, with status and retry

BENCHMARKS.md, "Where an event's milliseconds go".
"""
import argparse
import glob
import os
import random
import sqlite3
import string
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
WIDE = ("deliveries_by_status", "deliveries_by_event_type", "deliveries_by_asset",
        "deliveries_by_rule", "deliveries_by_destination")
DESTINATIONS = 10
# Three of the wide indexes that do not lead with the status as migration 0014
# made them, with the two columns a recorded attempt changes, so that a record
# moves an entry in each (migration 0016 took them out on SQLite).
MOVED = {
    "deliveries_by_event_type": "event_type, id, status, retry, destination_id, rule_id, created_at",
    "deliveries_by_rule": "rule_id, id, status, retry, destination_id, event_type, created_at",
    "deliveries_by_destination": "destination_id, id, status, retry, rule_id, event_type, created_at",
}


def open_db(path, drop_wide, moved):
    db = sqlite3.connect(path, isolation_level=None)
    # As store::Db::connect sets them.
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-512",
                   "wal_autocheckpoint=0", "foreign_keys=OFF"):
        db.execute("PRAGMA " + pragma)
    for migration in sorted(glob.glob(os.path.join(ROOT, "migrations", "sqlite", "*.sql"))):
        with open(migration) as f:
            db.executescript(f.read())
    if drop_wide:
        for name in WIDE:
            db.execute("DROP INDEX " + name)
    elif moved:
        for name, columns in MOVED.items():
            db.execute("DROP INDEX " + name)
            db.execute("CREATE INDEX %s ON deliveries (%s)" % (name, columns))
    return db


def ids(prefix, ordered, n):
    tail = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(14 if ordered else 24))
    return prefix + ("%010d" % n if ordered else "") + tail


def write_event(db, i, ordered):
    """One event's two transactions; the time of each step."""
    asset = "production.public.table_%d" % i
    msgs = [ids("msg_", ordered, i * DESTINATIONS + d) for d in range(DESTINATIONS)]
    public = ids("alert_", ordered, i)
    marks = [time.perf_counter()]
    db.execute("BEGIN IMMEDIATE")
    event = db.execute(
        "INSERT INTO events (type, qualified_name, asset_type, change_type, details, occurred_at, dedup_key, received_at) "
        "VALUES (?, ?, 'table', 'column_removed', ?, ?, NULL, ?) RETURNING id",
        ("schema_change", asset, '{"note":"' + "x" * 520 + '"}', i, i)).fetchone()[0]
    alert = db.execute(
        "INSERT INTO alerts (public_id, event_id, rule_id, rule_name, alert_type, status, payload, created_at) "
        "VALUES (?, ?, 1, 'Everything', 'schema', 'triggered', ?, ?) RETURNING id",
        (public, event, '{"x":"' + "y" * 1000 + '"}', i)).fetchone()[0]
    marks.append(time.perf_counter())
    rows = ",".join(["(?, ?, ?, 'pending', ?, ?, ?, 1, 'schema_change', ?, 'w', ?)"] * DESTINATIONS)
    args = []
    for d, msg in enumerate(msgs):
        args += [alert, d + 1, msg, i, i, i, asset, i + 60_000]
    delivered = db.execute(
        "INSERT INTO deliveries (alert_id, destination_id, msg_id, status, next_attempt_at, created_at, updated_at, "
        "rule_id, event_type, asset_name, lease_owner, lease_until) VALUES " + rows + " RETURNING id, msg_id",
        args).fetchall()
    marks.append(time.perf_counter())
    db.execute("COMMIT")
    marks.append(time.perf_counter())
    delivery_ids = [row[0] for row in delivered]
    headers = '{"content-type":"application/json","webhook-signature":"v1,' + "a" * 44 + '"}'
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO attempts (delivery_id, number, started_at, duration_ms, request_headers, response_status, "
        "response_headers, response_body, error_kind, error_message, next_attempt_at) VALUES "
        + ",".join(["(?, 1, ?, 3, ?, 200, '{}', '', NULL, NULL, NULL)"] * DESTINATIONS),
        [v for d in delivery_ids for v in (d, i, headers)])
    db.execute(
        "UPDATE deliveries SET status = v.column2, attempts = 1, failures = 0, retry = FALSE, last_status = 200, "
        "last_error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = ? FROM (VALUES "
        + ",".join(["(?, 'delivered')"] * DESTINATIONS) + ") AS v WHERE deliveries.id = v.column1 AND deliveries.id IN ("
        + ",".join(map(str, delivery_ids)) + ") AND deliveries.status = 'pending'",
        [i] + delivery_ids)
    marks.append(time.perf_counter())
    db.execute("COMMIT")
    marks.append(time.perf_counter())
    return [b - a for a, b in zip(marks, marks[1:])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=12_000)
    parser.add_argument("--timed", type=int, default=2_000, help="the last this many events are timed")
    parser.add_argument("--drop-wide", action="store_true")
    parser.add_argument("--ordered-ids", action="store_true")
    parser.add_argument("--moved", action="store_true")
    args = parser.parse_args()
    steps = ["event and alert", "10 deliveries", "commit", "record 10 attempts", "commit"]
    total = [0.0] * len(steps)
    with tempfile.TemporaryDirectory() as dir:
        db = open_db(os.path.join(dir, "cost.db"), args.drop_wide, args.moved)
        for i in range(args.events):
            if i % 500 == 0:
                # The server's checkpoint task, roughly.
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            took = write_event(db, i, args.ordered_ids)
            if i >= args.events - args.timed:
                total = [t + s for t, s in zip(total, took)]
        db.close()
    mean = [t / args.timed * 1e6 for t in total]
    print("SQLite %s, %d events, indexes: %s, ids: %s" % (
        sqlite3.sqlite_version, args.events, "without the five wide" if args.drop_wide else
        "three with status and retry (before 0016)" if args.moved else "as migrated",
        "ordered" if args.ordered_ids else "random"))
    print("  ingest:  " + ", ".join("%s %.0f us" % (n, m) for n, m in zip(steps[:3], mean[:3])))
    print("  record:  " + ", ".join("%s %.0f us" % (n, m) for n, m in zip(steps[3:], mean[3:])))
    per_delivery = sum(mean) / DESTINATIONS
    print("  per delivery: %.0f us of SQLite work, a writer ceiling of %.0f deliveries/s" % (
        per_delivery, 1e6 / per_delivery))


if __name__ == "__main__":
    main()
