//! The rows of a commit, written with statements of fixed shape that SQLite parses only once.
//!
//! A multi-row statement's text depends on how many rows it carries, so building one per
//! commit made SQLite parse every commit afresh (BENCHMARKS.md has what that cost). Instead,
//! each kind of row has a few statements, each with room for a fixed number of rows (its
//! *tier*), prepared once and kept by the connection's statement cache. Each statement reads
//! only as many rows of its `VALUES` list as it is given: its first parameter is that count,
//! applied with `LIMIT`, so the rows past it are never evaluated. They are left unbound: SQLite
//! reads an unbound parameter as NULL, and a statement's bindings are cleared each time it
//! goes back to the cache.
//!
//! The rows of a kind run through the largest tier's statement as often as they fill it, and
//! then through the smallest that holds the rest. A kind without rows runs nothing.

use std::sync::LazyLock;

use rusqlite::{Connection, Statement, ToSql};

use crate::model::hash::FastMap;
use crate::store::packed;
use crate::store::Result;

/// Rows per kind at each tier (history events get [`EVENTS_PER_ROW`] times as many). Each tier
/// doubles the last.
const TIERS: [usize; 7] = [4, 8, 16, 32, 64, 128, 256];
/// History events a tier holds for each row of the other kinds: a step usually writes a few.
const EVENTS_PER_ROW: usize = 8;

/// How many statements the writer's connection keeps prepared: every kind at every tier, and
/// the rarer changes'.
pub(super) const CACHED_STATEMENTS: usize = 2 * KINDS.len() * TIERS.len();

/// The kinds of rows, in the order their statements run. Within one commit no two requests
/// touch the same execution, and within one request no key is both deleted and inserted, so
/// this order is free to differ from the order of the operations. The texts executions are
/// stored by are numbered before any statement runs ([`Numbers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    InsertExecutions,
    UpdateExecutions,
    DeleteTimers,
    InsertTimers,
    DeleteTasks,
    DeleteTasksOf,
    InsertTasks,
    InsertEvents,
}

const KINDS: [Kind; 8] = [
    Kind::InsertExecutions,
    Kind::UpdateExecutions,
    Kind::DeleteTimers,
    Kind::InsertTimers,
    Kind::DeleteTasks,
    Kind::DeleteTasksOf,
    Kind::InsertTasks,
    Kind::InsertEvents,
];

impl Kind {
    fn columns(self) -> usize {
        match self {
            Kind::InsertExecutions => 15,
            Kind::UpdateExecutions => 8,
            Kind::DeleteTimers | Kind::DeleteTasks => 2,
            Kind::InsertTimers => 3,
            Kind::DeleteTasksOf => 1,
            Kind::InsertTasks => 4,
            Kind::InsertEvents => 5,
        }
    }

    fn capacity(self, tier: usize) -> usize {
        match self {
            Kind::InsertEvents => tier * EVENTS_PER_ROW,
            _ => tier,
        }
    }

    /// How each changed row moves the count of stored timers.
    fn timer_sign(self) -> i64 {
        match self {
            Kind::DeleteTimers => -1,
            Kind::InsertTimers => 1,
            _ => 0,
        }
    }

    /// The statement with room for `rows` rows. `lim` holds the number of rows to use.
    fn statement(self, rows: usize) -> String {
        let one = format!("({})", vec!["?"; self.columns()].join(","));
        let values = format!(
            "(SELECT * FROM (VALUES {}) LIMIT (SELECT n FROM lim))",
            vec![one.as_str(); rows].join(",")
        );
        let body = match self {
            // The machine and the revision come as their numbers (migration 0009).
            Kind::InsertExecutions => format!(
                "INSERT INTO execution_rows (id, machine, name, partition, revision, status, \
                 input, output, error, cause, start_ms, stop_ms, cursor, last_event_id, arn) \
                 SELECT * FROM {values}"
            ),
            Kind::UpdateExecutions => format!(
                "UPDATE execution_rows SET status = v.column2, output = v.column3, \
                 error = v.column4, cause = v.column5, stop_ms = v.column6, cursor = v.column7, \
                 last_event_id = v.column8 FROM {values} AS v WHERE execution_rows.id = v.column1"
            ),
            Kind::DeleteTimers => {
                format!("DELETE FROM timers WHERE (execution_id, seq) IN {values}")
            }
            Kind::InsertTimers => {
                // An upsert, as on PostgreSQL: a timer written again moves to its new deadline.
                format!(
                    "INSERT INTO timers (execution_id, seq, due_ms) SELECT * FROM {values} \
                     WHERE true ON CONFLICT (execution_id, seq) DO UPDATE SET due_ms = excluded.due_ms"
                )
            }
            Kind::DeleteTasks => format!("DELETE FROM tasks WHERE (execution_id, seq) IN {values}"),
            Kind::DeleteTasksOf => format!("DELETE FROM tasks WHERE execution_id IN {values}"),
            Kind::InsertTasks => format!(
                "INSERT INTO tasks (execution_id, seq, scheduled_ms, invocation) \
                 SELECT * FROM {values}"
            ),
            Kind::InsertEvents => format!(
                "INSERT INTO history_events (key, previous_id, type_code, timestamp_ms, details) \
                 SELECT * FROM {values}"
            ),
        };
        format!("WITH lim(n) AS (SELECT ?) {body}")
    }
}

/// The statements of every tier, by kind: `STATEMENTS[tier][kind as usize]`.
static STATEMENTS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    TIERS
        .iter()
        .map(|&tier| {
            KINDS
                .iter()
                .map(|k| k.statement(k.capacity(tier)))
                .collect()
        })
        .collect()
});

/// Every row a commit writes, by kind.
pub(super) use crate::store::RowsByKind as Rows;

impl Rows<'_> {
    /// Write every row, inside the caller's transaction. Returns the change in the number of
    /// stored timers. The texts the executions are stored by that `numbers` does not know yet
    /// are numbered in the transaction; the caller tells `numbers` whether it committed.
    pub(super) fn write(&self, conn: &Connection, numbers: &mut Numbers) -> Result<i64> {
        Batch::of(self, conn, numbers)?.write(conn)
    }

    /// Whether there is no row to write.
    pub(super) fn is_empty(&self) -> bool {
        self.executions.is_empty()
            && self.updates.is_empty()
            && self.timer_deletes.is_empty()
            && self.timers.is_empty()
            && self.task_deletes.is_empty()
            && self.tasks_ended.is_empty()
            && self.tasks.is_empty()
            && self.events.is_empty()
    }
}

/// The writer's copy of `numbers` (migration 0009): the number of each machine's ARN and
/// revision id it has stored executions by. A text keeps its number for good (no row of
/// `numbers` is ever removed or changed), so a number known once stays right, and a commit
/// binds the numbers of its executions' texts instead of looking each up with a subquery. A
/// text not known yet is numbered (or found) inside the commit, and becomes known only when
/// the commit does: a rolled-back transaction may have given out a number that was undone.
#[derive(Debug, Default)]
pub(super) struct Numbers {
    known: FastMap<String, i64>,
    /// Numbered inside the open transaction.
    pending: Vec<(String, i64)>,
}

impl Numbers {
    /// How many texts are kept at most: far more than a deployment has machines and revisions
    /// in use. Past it the copy starts again empty (each text is then looked up once more).
    const MAX_KNOWN: usize = 4_096;

    /// The number of `text` if it is known or was numbered in the open transaction.
    fn get(&self, text: &str) -> Option<i64> {
        self.known.get(text).copied().or_else(|| {
            self.pending
                .iter()
                .find_map(|(t, n)| (t == text).then_some(*n))
        })
    }

    /// The number of `text`, numbering it in the open transaction if it has none.
    fn number(&mut self, conn: &Connection, text: &str) -> Result<i64> {
        if let Some(n) = self.get(text) {
            return Ok(n);
        }
        conn.prepare_cached("INSERT OR IGNORE INTO numbers (text) VALUES (?1)")?
            .execute([text])?;
        let n: i64 = conn
            .prepare_cached("SELECT n FROM numbers WHERE text = ?1")?
            .query_row([text], |r| r.get(0))?;
        self.pending.push((text.to_owned(), n));
        Ok(n)
    }

    /// The transaction committed: what it numbered is known.
    pub(super) fn committed(&mut self) {
        if self.known.len() + self.pending.len() > Self::MAX_KNOWN {
            self.known.clear();
        }
        self.known.extend(self.pending.drain(..));
    }

    /// The transaction was rolled back: what it numbered may not be stored.
    pub(super) fn rolled_back(&mut self) {
        self.pending.clear();
    }
}

/// A commit's rows, and the numbers of the texts its executions are stored by (each of them
/// numbered before the batch is made).
struct Batch<'r, 'a> {
    rows: &'r Rows<'a>,
    numbers: &'r Numbers,
    /// The inputs of the executions inserted ([`Rows::started_inputs`]).
    started: FastMap<i64, Option<packed::HeldInput>>,
}

/// Binds a statement's parameters in order.
struct Binder<'s, 'c> {
    stmt: &'s mut Statement<'c>,
    next: usize,
}

impl Binder<'_, '_> {
    fn add<T: ToSql>(&mut self, value: T) -> rusqlite::Result<()> {
        self.next += 1;
        self.stmt.raw_bind_parameter(self.next, value)
    }
}

impl<'r, 'a> Batch<'r, 'a> {
    fn of(rows: &'r Rows<'a>, conn: &Connection, numbers: &'r mut Numbers) -> Result<Self> {
        for r in &rows.executions {
            numbers.number(conn, &r.state_machine_arn)?;
            numbers.number(conn, &r.revision_id)?;
        }
        Ok(Self {
            rows,
            numbers,
            started: rows.started_inputs(),
        })
    }

    fn len(&self, kind: Kind) -> usize {
        let rows = self.rows;
        match kind {
            Kind::InsertExecutions => rows.executions.len(),
            Kind::UpdateExecutions => rows.updates.len(),
            Kind::DeleteTimers => rows.timer_deletes.len(),
            Kind::InsertTimers => rows.timers.len(),
            Kind::DeleteTasks => rows.task_deletes.len(),
            Kind::DeleteTasksOf => rows.tasks_ended.len(),
            Kind::InsertTasks => rows.tasks.len(),
            Kind::InsertEvents => rows.events.len(),
        }
    }

    /// [`Rows::write`].
    fn write(&self, conn: &Connection) -> Result<i64> {
        let mut timers = 0i64;
        for kind in KINDS {
            let len = self.len(kind);
            let mut from = 0;
            while from < len {
                let left = len - from;
                let tier = TIERS
                    .iter()
                    .position(|&t| kind.capacity(t) >= left)
                    .unwrap_or(TIERS.len() - 1);
                let n = left.min(kind.capacity(TIERS[tier]));
                let mut stmt = conn.prepare_cached(&STATEMENTS[tier][kind as usize])?;
                self.bind(&mut stmt, kind, from, n)?;
                let changed = stmt.raw_execute()?;
                timers += kind.timer_sign() * i64::try_from(changed).unwrap_or(i64::MAX);
                from += n;
            }
        }
        Ok(timers)
    }

    /// Bind rows `from..from + n` of `kind`.
    fn bind(
        &self,
        stmt: &mut Statement<'_>,
        kind: Kind,
        from: usize,
        n: usize,
    ) -> rusqlite::Result<()> {
        let mut args = Binder { stmt, next: 0 };
        args.add(i64::try_from(n).unwrap_or(i64::MAX))?;
        let range = from..from + n;
        let rows = self.rows;
        match kind {
            Kind::InsertExecutions => {
                for r in &rows.executions[range] {
                    args.add(r.id)?;
                    args.add(self.numbers.get(&r.state_machine_arn))?;
                    args.add(super::numbers::stored_name(&r.name))?;
                    args.add(r.partition)?;
                    args.add(self.numbers.get(&r.revision_id))?;
                    args.add(super::numbers::status_code(r.status))?;
                    args.add(r.input.as_str())?;
                    args.add(r.output.as_deref())?;
                    args.add(r.error.as_deref())?;
                    args.add(r.cause.as_deref())?;
                    args.add(r.start_ms)?;
                    args.add(r.stop_ms)?;
                    args.add(r.cursor.as_deref().map(|c| {
                        packed::pack_cursor_with_input(
                            c,
                            packed::started_input(&self.started, r.id),
                        )
                    }))?;
                    args.add(r.last_event_id)?;
                    args.add(super::numbers::arn_kept(r))?;
                }
            }
            Kind::UpdateExecutions => {
                for u in &rows.updates[range] {
                    args.add(u.id)?;
                    args.add(super::numbers::status_code(u.status))?;
                    args.add(u.output.as_deref())?;
                    args.add(u.error.as_deref())?;
                    args.add(u.cause.as_deref())?;
                    args.add(u.stop_ms)?;
                    args.add(u.cursor.as_deref().map(packed::pack_cursor))?;
                    args.add(u.last_event_id)?;
                }
            }
            Kind::DeleteTimers | Kind::DeleteTasks => {
                let keys = if kind == Kind::DeleteTimers {
                    &rows.timer_deletes
                } else {
                    &rows.task_deletes
                };
                for &(execution_id, seq) in &keys[range] {
                    args.add(execution_id)?;
                    args.add(seq)?;
                }
            }
            Kind::InsertTimers => {
                for t in &rows.timers[range] {
                    args.add(t.execution_id)?;
                    args.add(t.seq)?;
                    args.add(t.due_ms)?;
                }
            }
            Kind::DeleteTasksOf => {
                for &id in &rows.tasks_ended[range] {
                    args.add(id)?;
                }
            }
            Kind::InsertTasks => {
                for t in &rows.tasks[range] {
                    args.add(t.execution_id)?;
                    args.add(t.seq)?;
                    args.add(t.scheduled_ms)?;
                    args.add(t.invocation.as_str())?;
                }
            }
            Kind::InsertEvents => {
                // The events of an execution started in this commit may leave out its input.
                for &(execution_id, e) in &rows.events[range] {
                    args.add(super::history_key(execution_id, e.id))?;
                    args.add(e.previous_id)?;
                    args.add(e.event_type.code())?;
                    args.add(e.timestamp_ms)?;
                    args.add(e.details.as_deref().map(|d| {
                        packed::pack_with_input(
                            d,
                            packed::started_input(&self.started, execution_id),
                        )
                    }))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::open_temporary_writer as open;
    use super::*;
    use crate::store::{EventRow, ExecutionRow, ExecutionUpdate, TaskRow, TimerRow};

    /// A running execution whose input names it.
    fn execution(id: i64) -> ExecutionRow {
        ExecutionRow {
            input: format!("{{\"n\":{id}}}"),
            ..ExecutionRow::running_for_tests(id, &format!("e{id}"), id)
        }
    }

    fn event(id: i64) -> EventRow {
        EventRow {
            id,
            previous_id: id - 1,
            event_type: crate::model::HistoryEventType::PassStateEntered,
            timestamp_ms: id,
            details: (id % 2 == 0).then(|| format!("{{\"id\":{id}}}")),
        }
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).expect("count")
    }

    /// Write `rows` in a transaction of their own, with a copy of `numbers` of its own.
    fn write(conn: &Connection, rows: &Rows) -> Result<i64> {
        write_numbered(conn, &mut Numbers::default(), rows)
    }

    /// Write `rows` in a transaction of their own, as the writer does.
    fn write_numbered(conn: &Connection, numbers: &mut Numbers, rows: &Rows) -> Result<i64> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let written = rows.write(conn, numbers);
        if written.is_ok() {
            conn.execute_batch("COMMIT")?;
            numbers.committed();
        } else {
            conn.execute_batch("ROLLBACK")?;
            numbers.rolled_back();
        }
        written
    }

    /// Every row count around each tier's edge, and far past the largest (a kind's statement
    /// run several times in one transaction): exactly the given rows land, and the timer count
    /// moves by exactly what was inserted and deleted.
    #[tokio::test]
    async fn every_row_lands_whatever_the_count() {
        let (store, conn, _dir) = open().await;
        let mut next = 1i64;
        let edges = TIERS.iter().flat_map(|&t| [t, t + 1]);
        for n in std::iter::once(1).chain(edges).chain([700]) {
            let ids: Vec<i64> = (next..next + n as i64).collect();
            next += n as i64;
            let executions: Vec<ExecutionRow> = ids.iter().map(|&id| execution(id)).collect();
            // Three events each: more than a tier's share when n is at its edge.
            let events: Vec<(i64, EventRow)> = ids
                .iter()
                .flat_map(|&id| (1..=3).map(move |e| (id, event(e))))
                .collect();
            let timers: Vec<TimerRow> = ids
                .iter()
                .map(|&id| TimerRow {
                    partition: 0,
                    due_ms: 1_000 + id,
                    execution_id: id,
                    seq: 3,
                })
                .collect();
            let tasks: Vec<TaskRow> = ids
                .iter()
                .map(|&id| TaskRow {
                    partition: 0,
                    execution_id: id,
                    seq: 3,
                    scheduled_ms: id,
                    invocation: "{}".into(),
                })
                .collect();
            let rows = Rows {
                executions: executions.iter().collect(),
                events: events.iter().map(|(id, e)| (*id, e)).collect(),
                timers: timers.iter().collect(),
                tasks: tasks.iter().collect(),
                ..Rows::default()
            };
            let before = count(&conn, "SELECT COUNT(*) FROM history_events");
            assert_eq!(write(&conn, &rows).expect("write"), n as i64);
            let after = count(&conn, "SELECT COUNT(*) FROM history_events");
            assert_eq!(after - before, 3 * n as i64, "events for n = {n}");
            assert_eq!(store.max_execution_id().await.expect("max"), next - 1);
            let last = store
                .execution_by_id(next - 1)
                .await
                .expect("read")
                .expect("the last execution of the request");
            assert_eq!(last.input, format!("{{\"n\":{}}}", next - 1));
            let history = store
                .history(next - 1, None, 10, false)
                .await
                .expect("history");
            assert_eq!(history.len(), 3);
            assert_eq!(history[1].details.as_deref(), Some("{\"id\":2}"));
            assert_eq!(history[0].details, None);

            // Then each of them ends: updates, and deletes of timers and tasks.
            let updates: Vec<ExecutionUpdate> = ids
                .iter()
                .map(|&id| ExecutionUpdate {
                    id,
                    status: crate::model::ExecutionStatus::Succeeded,
                    output: Some("{}".into()),
                    error: None,
                    cause: None,
                    stop_ms: Some(id + 1),
                    cursor: None,
                    last_event_id: 4,
                })
                .collect();
            let keys: Vec<(i64, i64)> = ids.iter().map(|&id| (id, 3)).collect();
            let rows = Rows {
                updates: updates.iter().collect(),
                timer_deletes: keys.clone(),
                task_deletes: keys[..n / 2].to_vec(),
                tasks_ended: ids[n / 2..].to_vec(),
                ..Rows::default()
            };
            assert_eq!(write(&conn, &rows).expect("end"), -(n as i64));
            assert_eq!(
                count(
                    &conn,
                    "SELECT COUNT(*) FROM executions WHERE status = 'RUNNING'"
                ),
                0,
                "n = {n}"
            );
            assert_eq!(store.count_timers().await.expect("timers"), 0);
            assert!(store
                .tasks_after(None, 1000, None)
                .await
                .expect("tasks")
                .is_empty());
        }
    }

    /// A failure in a later statement of a commit undoes the earlier ones: a commit is whole.
    #[tokio::test]
    async fn a_commit_of_several_statements_fails_whole() {
        let (store, conn, _dir) = open().await;
        let executions: Vec<ExecutionRow> = (1..=600).map(execution).collect();
        let mut clash = execution(9_999);
        // The same ARN as the first row: the unique index refuses it in the third statement.
        clash.arn = executions[0].arn.clone();
        clash.name = executions[0].name.clone();
        let mut all: Vec<&ExecutionRow> = executions.iter().collect();
        all.push(&clash);
        let rows = Rows {
            executions: all,
            ..Rows::default()
        };
        let result = write(&conn, &rows);
        assert!(result.is_err(), "a duplicate ARN must fail the commit");
        assert_eq!(store.max_execution_id().await.expect("max"), 0);
    }

    /// Rows are stored by their machine's number and their name; a row whose ARN the two do not
    /// make keeps it whole; a name that is a UUID is kept as bytes. All read back as written,
    /// by id and by ARN.
    #[tokio::test]
    async fn rows_are_stored_by_number_and_read_back_whole() {
        let (store, conn, _dir) = open().await;
        let plain = execution(1);
        let mut odd = execution(2);
        odd.arn = "arn:aws:states:us-east-1:123456789012:express:sm:e2:x".into();
        let mut other = execution(3);
        other.state_machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:sm2".into();
        other.arn = "arn:aws:states:us-east-1:123456789012:execution:sm2:e3".into();
        other.revision_id = "r2".into();
        let unnamed = ExecutionRow::running_for_tests(4, &uuid::Uuid::new_v4().to_string(), 4);
        let rows = Rows {
            executions: vec![&plain, &odd, &other, &unnamed],
            ..Rows::default()
        };
        write(&conn, &rows).expect("write");
        // A UUID's name is kept as its 16 bytes, the status as a number (migration 0010).
        let kinds: Vec<(String, i64, String)> = conn
            .prepare(
                "SELECT typeof(name), length(CAST(name AS BLOB)), typeof(status) \
                 FROM execution_rows ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .expect("kinds");
        assert_eq!(kinds[0], ("text".to_owned(), 2, "integer".to_owned()));
        assert_eq!(kinds[3], ("blob".to_owned(), 16, "integer".to_owned()));
        let kept: Vec<(i64, i64, Option<String>)> = conn
            .prepare("SELECT machine, revision, arn FROM execution_rows ORDER BY id")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .expect("rows");
        let numbers: i64 = count(&conn, "SELECT COUNT(*) FROM numbers");
        assert_eq!(
            numbers, 4,
            "two machines and two revisions, each numbered once"
        );
        assert_eq!(kept[0].2, None);
        assert_eq!(kept[1].2.as_deref(), Some(odd.arn.as_str()));
        assert_eq!(kept[2].2, None);
        assert_eq!(kept[3].2, None);
        assert_eq!((kept[0].0, kept[0].1), (kept[1].0, kept[1].1));
        assert_ne!(kept[0].0, kept[2].0);
        for r in [&plain, &odd, &other, &unnamed] {
            for read in [
                store.execution_by_arn(&r.arn).await.expect("by arn"),
                store.execution_by_id(r.id).await.expect("by id"),
            ] {
                let read = read.expect("found");
                assert_eq!(
                    (
                        &read.arn,
                        &read.state_machine_arn,
                        &read.revision_id,
                        &read.name
                    ),
                    (&r.arn, &r.state_machine_arn, &r.revision_id, &r.name)
                );
            }
        }
        assert!(store
            .execution_by_arn("arn:aws:states:us-east-1:123456789012:execution:sm:e9")
            .await
            .expect("read")
            .is_none());
    }

    /// A number given out in a commit that was rolled back is not kept: the next text numbered
    /// may get the same number, and executions stay with the machines they were started for.
    #[tokio::test]
    async fn numbers_of_a_rolled_back_commit_are_not_kept() {
        let (store, conn, _dir) = open().await;
        let mut numbers = Numbers::default();
        let first = execution(1);
        write_numbered(
            &conn,
            &mut numbers,
            &Rows {
                executions: vec![&first],
                ..Rows::default()
            },
        )
        .expect("first");
        let machine = |m: &str, id: i64| {
            let mut r = execution(id);
            r.state_machine_arn = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{m}");
            r.arn = format!("arn:aws:states:us-east-1:123456789012:execution:{m}:e{id}");
            r
        };
        // A new machine numbered, then the commit refused (the same id twice) and undone.
        let x = machine("x", 2);
        let clash = execution(1);
        let refused = write_numbered(
            &conn,
            &mut numbers,
            &Rows {
                executions: vec![&x, &clash],
                ..Rows::default()
            },
        );
        assert!(refused.is_err(), "a duplicate id must fail the commit");
        // Another machine takes the number the undone commit gave out; then x comes again.
        let y = machine("y", 3);
        let x_again = machine("x", 4);
        for r in [&y, &x_again] {
            write_numbered(
                &conn,
                &mut numbers,
                &Rows {
                    executions: vec![r],
                    ..Rows::default()
                },
            )
            .expect("write");
        }
        for r in [&first, &y, &x_again] {
            let read = store
                .execution_by_id(r.id)
                .await
                .expect("read")
                .expect("found");
            assert_eq!(
                (read.state_machine_arn, read.arn),
                (r.state_machine_arn.clone(), r.arn.clone())
            );
        }
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM numbers"), 4);
    }

    #[test]
    fn every_statement_stays_under_sqlites_parameter_limit() {
        for &tier in &TIERS {
            for kind in KINDS {
                assert!(
                    1 + kind.capacity(tier) * kind.columns() < 32_766,
                    "{kind:?} {tier}"
                );
            }
        }
    }
}
