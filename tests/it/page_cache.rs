//! SQLite's page cache, in this process, with the connections the daemon opens: its writer's
//! ([`open_writer`]) and its direct reads' ([`open_reader`]). The SQLite built into hourglass
//! keeps one page cache for all of a process's connections, bounded by the sum of their
//! `cache_size`, and any one of them may hold all of it. The readers' shares are kept small so
//! that the writer's cache, which SQLite walks at the end of every write transaction, and
//! SQLite's memory stay near the writer's 2 MB.

use hourglass::config::Config;
use hourglass::store::sqlite::{open_reader, open_writer};
use rusqlite::{ffi, Connection};

/// The bytes of page cache `conn` holds (`SQLITE_DBSTATUS_CACHE_USED`).
fn cache_used(conn: &Connection) -> i64 {
    let (mut current, mut highest) = (0, 0);
    // SAFETY: the handle is the open connection's own, used on this thread only, and SQLite
    // only writes the two integers it is given.
    let rc = unsafe {
        ffi::sqlite3_db_status(
            conn.handle(),
            ffi::SQLITE_DBSTATUS_CACHE_USED,
            &mut current,
            &mut highest,
            0,
        )
    };
    assert_eq!(rc, ffi::SQLITE_OK);
    i64::from(current)
}

#[test]
fn a_long_read_and_a_long_write_each_hold_no_more_than_the_connections_shares() {
    // No other connection in this process while the shares are measured.
    let _alone = crate::support::sqlite::IN_PROCESS.blocking_lock();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    std::fs::create_dir_all(&config.data_dir).expect("the data directory");
    let writer = open_writer(&config).expect("the writer's connection");
    // 40 MB of rows, one to a page, in a table of the test's own.
    writer
        .execute_batch(
            "CREATE TABLE filler (x BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
             INSERT INTO filler SELECT randomblob(3000) FROM n;",
        )
        .expect("fill");
    let readers: Vec<Connection> = (0..2)
        .map(|_| open_reader(&config.database_path()).expect("a reader"))
        .collect();
    // Shares: the writer's 2,000 KiB and each reader's; pages carry a few hundred bytes of
    // bookkeeping on top.
    let shares = |n: usize| ((2_000 + 256 * n as i64) * 1024) * 9 / 8;

    let read: i64 = readers[0]
        .query_row("SELECT sum(length(x)) FROM filler", [], |r| r.get(0))
        .expect("read it all");
    assert_eq!(read, 30_000_000);
    let held = cache_used(&readers[0]);
    assert!(held <= shares(2), "the reader holds {held} bytes");
    // More than its own share: the shares bound the whole, not each connection.
    assert!(held > 2 * 256 * 1024, "the reader holds {held} bytes");

    // The writer reads most pages as it rewrites every third row; it may take the readers'
    // pages, but no more than the connections' shares in all.
    writer
        .execute_batch("UPDATE filler SET x = randomblob(3000) WHERE rowid % 3 = 0")
        .expect("rewrite");
    let all: i64 = cache_used(&writer) + readers.iter().map(cache_used).sum::<i64>();
    assert!(all <= shares(2), "the connections hold {all} bytes");
}
