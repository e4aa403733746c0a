-- History rows keyed by one integer, execution_id * 2^24 + id, in a table of its own rows.
--
-- As a WITHOUT ROWID table the history was an index b-tree, where a row keeps at most about
-- 1,000 bytes in its page and moves the rest to overflow pages of 4 KiB each: an execution
-- whose input was 1 KiB took 13.5 KB. A table b-tree keeps about 4,000 bytes in the page.
-- The key keeps the rows of one execution together and in id order, as the old primary key
-- did, so reading and deleting them stay range scans. An execution writes fewer than 2^24
-- events (the limit is checked at start-up).
CREATE TABLE history_by_key (
    key               INTEGER PRIMARY KEY NOT NULL,  -- execution_id * 16777216 + id
    previous_id       INTEGER NOT NULL,
    type              TEXT NOT NULL,
    timestamp_ms      INTEGER NOT NULL,
    details           TEXT                           -- packed JSON (see store/packed.rs)
);
INSERT INTO history_by_key (key, previous_id, type, timestamp_ms, details)
    SELECT execution_id * 16777216 + id, previous_id, type, timestamp_ms, details
    FROM history_events ORDER BY execution_id, id;
DROP TABLE history_events;
ALTER TABLE history_by_key RENAME TO history_events;
