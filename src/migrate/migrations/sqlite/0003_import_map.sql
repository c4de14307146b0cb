-- citaplanner import (issue 15): every row brought over from the original
-- CitaPlanner keeps its old id (a cuid) beside ours, so that the import can
-- be re-run (rows already mapped are left alone) and resumed after a failure.
CREATE TABLE import_map (
    id INTEGER PRIMARY KEY,
    source_table TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT import_map_source_table_source_id_key UNIQUE (source_table, source_id)
);
