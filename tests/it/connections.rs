//! Client connections: one left idle is closed after `limits.idle_connection_secs`, as is one
//! that never finishes its request's head; one whose request takes longer is not. The memory
//! of many connections is handed back when they close.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::sfn::{activity, create, start};
use crate::support::{rss_anon_kib, TestDaemon};

/// An AWS JSON 1.0 request as the SDKs send it, keep-alive.
fn request(operation: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: AWSStepFunctions.{operation}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One response's status line and body, read to its Content-Length.
async fn response(conn: &mut TcpStream) -> (String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).await.expect("read a response");
        assert!(n > 0, "the connection closed before an answer: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .expect("a Content-Length");
        if body.len() >= length {
            let status = head.lines().next().unwrap_or_default().to_owned();
            return (status, body[..length].to_owned());
        }
    }
}

/// Send one request on `conn` and read its answer.
async fn ask(conn: &mut TcpStream, operation: &str, body: &str) -> (String, String) {
    conn.write_all(&request(operation, body))
        .await
        .expect("send");
    response(conn).await
}

/// How long until the daemon closes `conn` (reads nothing but the end), within `limit`.
async fn closed_after(conn: &mut TcpStream, limit: Duration) -> Duration {
    let begun = Instant::now();
    let mut chunk = [0u8; 1024];
    let n = tokio::time::timeout(limit, conn.read(&mut chunk))
        .await
        .expect("the daemon closes the connection")
        .unwrap_or(0);
    assert_eq!(n, 0, "only the end was to come");
    begun.elapsed()
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_limit_and_a_long_request_is_not() {
    let daemon =
        TestDaemon::start_with_env(&[("HOURGLASS_LIMITS__IDLE_CONNECTION_SECS", "1")]).await;

    // Two requests on one connection, then nothing: closed a second after the last answer.
    let mut idle = TcpStream::connect(daemon.addr()).await.expect("connect");
    for _ in 0..2 {
        let (status, body) = ask(&mut idle, "ListStateMachines", "{}").await;
        assert!(status.contains(" 200 "), "{status} {body}");
        assert!(body.contains("stateMachines"), "{body}");
    }
    let waited = closed_after(&mut idle, Duration::from_secs(10)).await;
    assert!(
        waited >= Duration::from_millis(900),
        "closed early: {waited:?}"
    );

    // A request's head begun and never finished: closed too.
    let mut slow = TcpStream::connect(daemon.addr()).await.expect("connect");
    slow.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("send");
    let waited = closed_after(&mut slow, Duration::from_secs(10)).await;
    assert!(
        waited >= Duration::from_millis(900),
        "closed early: {waited:?}"
    );

    // A long poll on an activity answered three seconds later, on a connection with a
    // request in progress all that time: it gets its task.
    let sfn = daemon.sfn();
    let activity = activity(&sfn, "slow-work").await;
    let sm = create(
        &sfn,
        "on-activity",
        &format!(r#"{{"StartAt":"Work","States":{{"Work":{{"Type":"Task","Resource":"{activity}","End":true}}}}}}"#),
    )
    .await;
    let mut polling = TcpStream::connect(daemon.addr()).await.expect("connect");
    polling
        .write_all(&request(
            "GetActivityTask",
            &format!(r#"{{"activityArn":"{activity}","workerName":"w"}}"#),
        ))
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_secs(3)).await;
    start(&sfn, &sm, "late", r#"{"job":42}"#).await;
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), response(&mut polling))
        .await
        .expect("the poll is answered");
    assert!(status.contains(" 200 "), "{status} {body}");
    let task: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(task["input"], r#"{"job":42}"#, "{body}");
    assert!(task["taskToken"].is_string(), "{body}");
}

#[tokio::test]
async fn the_memory_of_500_connections_is_handed_back_when_they_close() {
    const N: usize = 500;
    let daemon = TestDaemon::start().await;
    let mut warm = TcpStream::connect(daemon.addr()).await.expect("connect");
    for _ in 0..200 {
        ask(&mut warm, "ListStateMachines", "{}").await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_anon_kib(daemon.pid());

    let mut open = Vec::with_capacity(N);
    for _ in 0..N {
        let mut conn = TcpStream::connect(daemon.addr()).await.expect("connect");
        ask(&mut conn, "ListStateMachines", "{}").await;
        open.push(conn);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_them = rss_anon_kib(daemon.pid());
    let grown = with_them.saturating_sub(before);
    assert!(
        grown >= 2_000,
        "{N} connections took only {grown} KiB: nothing to hand back"
    );

    drop(open);
    // Closed connections are noticed at once; the memory goes back within seconds.
    let mut after = with_them;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = rss_anon_kib(daemon.pid());
        if after <= before + grown / 4 {
            break;
        }
    }
    assert!(
        after <= before + grown / 4,
        "RSS (anonymous) {before} KiB before, {with_them} KiB with {N} connections, {after} KiB \
         10 s after they closed"
    );
}
