//! The services of `tests/it/support` work on this machine: a PostgreSQL database, moto's SQS,
//! and Chromium reading a page of the daemon over WebDriver.

use sqlx::{Connection, PgConnection, Row};

use crate::support::{PgOptions, TestBrowser, TestDaemon, TestMoto, TestPostgres};

#[tokio::test]
async fn postgres_of_a_test_takes_a_table_and_returns_its_row() {
    let pg = TestPostgres::start().await;
    let mut conn = PgConnection::connect(pg.url()).await.expect("connect");
    sqlx::query("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("create");
    sqlx::query("INSERT INTO t VALUES (1, 'one')")
        .execute(&mut conn)
        .await
        .expect("insert");
    let row = sqlx::query("SELECT name FROM t WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("select");
    assert_eq!(row.get::<String, _>("name"), "one");
}

#[tokio::test]
async fn postgres_cluster_of_a_test_keeps_its_rows_across_a_restart_and_a_stop() {
    let mut pg = TestPostgres::start_cluster(PgOptions::default()).await;
    let mut conn = PgConnection::connect(pg.url()).await.expect("connect");
    sqlx::query("CREATE TABLE t AS SELECT 42 AS x")
        .execute(&mut conn)
        .await
        .expect("create");
    pg.restart();
    assert!(
        sqlx::query("SELECT 1").execute(&mut conn).await.is_err(),
        "a restart ends the sessions"
    );
    pg.stop();
    assert!(PgConnection::connect(pg.url()).await.is_err(), "stopped");
    pg.start_again();
    let mut conn = PgConnection::connect(pg.url()).await.expect("reconnect");
    let x: i32 = sqlx::query_scalar("SELECT x FROM t")
        .fetch_one(&mut conn)
        .await
        .expect("select");
    assert_eq!(x, 42);
}

#[tokio::test]
async fn moto_sqs_delivers_a_message_sent_with_the_aws_cli() {
    let moto = TestMoto::start().await;
    let queue = moto.aws(&["sqs", "create-queue", "--queue-name", "jobs"]);
    let url = queue["QueueUrl"].as_str().expect("QueueUrl");
    moto.aws(&[
        "sqs",
        "send-message",
        "--queue-url",
        url,
        "--message-body",
        "hello",
    ]);
    let received = moto.aws(&["sqs", "receive-message", "--queue-url", url]);
    assert_eq!(received["Messages"][0]["Body"], "hello", "{received}");
}

#[tokio::test]
async fn chromium_over_webdriver_reads_the_daemon_health_page() {
    let daemon = TestDaemon::start().await;
    let browser = TestBrowser::start().await;
    browser.open(&format!("{}/health", daemon.url())).await;
    assert_eq!(browser.text("body").await.trim(), "ok");
    let shot = browser.screenshot("daemon-health").await;
    let png = std::fs::read(&shot).expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", shot.display());
    browser.close().await;
}
