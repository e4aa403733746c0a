-- The counts by machine, status and partition are kept by the writer, one upsert per machine,
-- status and partition in each commit (store/sqlite/bulk.rs, and the deletes of retention in
-- store/sqlite/writer.rs), instead of by a row trigger per execution: the triggers cost a
-- start about 8% and a Task round trip about 9% (BENCHMARKS.md). The writer is the only code
-- that inserts, updates or deletes executions on SQLite; the store tests check the counts
-- through each.
DROP TRIGGER executions_counted_in;
DROP TRIGGER executions_counted_out;
DROP TRIGGER executions_recounted;
