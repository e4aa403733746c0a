//! The web console, seen in headless Chromium: what a person would see after creating machines
//! and running executions through the API. Screenshots go to `target/tmp/screenshots/`.

use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::Value;

use crate::support::sfn::{create, describe, finished, start};
use crate::support::{eventually, FakeLambda, TestBrowser, TestDaemon};

/// A Lambda Task that fails and is caught, a Choice with a branch not taken, a Parallel and a Map.
const ORDERS: &str = r#"{
  "StartAt": "Charge",
  "States": {
    "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "fail-typed", "Payload.$": "$"},
      "Catch": [{"ErrorEquals": ["CustomError"], "ResultPath": "$.error", "Next": "Recover"}],
      "Next": "Pick"},
    "Recover": {"Type": "Pass", "Next": "Pick"},
    "Pick": {"Type": "Choice",
      "Choices": [{"Variable": "$.vip", "BooleanEquals": true, "Next": "Gift"}],
      "Default": "Fan"},
    "Gift": {"Type": "Pass", "Next": "Fan"},
    "Fan": {"Type": "Parallel", "ResultPath": null, "Next": "Each", "Branches": [
      {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": true}}},
      {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": true}}}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": null, "Next": "Done",
      "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}}},
    "Done": {"Type": "Succeed"}
  }
}"#;

async fn daemon_with_lambda() -> (TestDaemon, FakeLambda) {
    let lambda = FakeLambda::start().await;
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &lambda.endpoint())]).await;
    (daemon, lambda)
}

fn page(daemon: &TestDaemon, path: &str, arn: &str) -> String {
    let arn: String = form_urlencoded::byte_serialize(arn.as_bytes()).collect();
    format!("{}/console/{path}?arn={arn}", daemon.url())
}

/// Each state's colour on the drawn graph, once it is drawn.
async fn outcomes(browser: &TestBrowser) -> serde_json::Map<String, Value> {
    browser.find("#graph[data-ready='1']").await;
    let v = browser
        .client()
        .execute(
            "const o = {}; document.querySelectorAll('#graph g[data-state]')\
             .forEach(g => o[g.dataset.state] = g.dataset.outcome); return o;",
            vec![],
        )
        .await
        .expect("read the graph");
    v.as_object().cloned().unwrap_or_default()
}

async fn script(browser: &TestBrowser, js: &str) -> Value {
    browser
        .client()
        .execute(js, vec![])
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

#[tokio::test]
async fn an_execution_shows_its_graph_coloured_by_what_happened_and_its_history() {
    let (daemon, _lambda) = daemon_with_lambda().await;
    let sfn = daemon.sfn();
    let browser = TestBrowser::start().await;

    browser.open(&format!("{}/console/", daemon.url())).await;
    let empty = browser.text("main").await;
    assert!(empty.contains("No state machines yet"), "{empty}");
    assert!(empty.contains("create-state-machine"), "{empty}");

    let sm = create(&sfn, "orders", ORDERS).await;
    let arn = start(
        &sfn,
        &sm,
        "order-1",
        r#"{"items": [1, 2, 3], "vip": false}"#,
    )
    .await;
    let status = finished(&sfn, &arn, Duration::from_secs(30)).await;
    let d = describe(&sfn, &arn).await;
    assert_eq!(
        status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        d.error(),
        d.cause()
    );

    // The state machines page: the machine and its executions by status.
    browser.open(&format!("{}/console/", daemon.url())).await;
    let row = browser.text("#machines tbody tr").await;
    assert!(row.starts_with("orders Standard"), "{row}");
    assert_eq!(
        browser.text("#machines td[data-status='SUCCEEDED']").await,
        "1"
    );
    assert_eq!(
        browser.text("#machines td[data-status='FAILED']").await,
        "0"
    );

    // The execution: every state coloured by what happened to it.
    browser.open(&page(&daemon, "execution", &arn)).await;
    let o = outcomes(&browser).await;
    for (state, want) in [
        ("Charge", "caught"),
        ("Recover", "succeeded"),
        ("Pick", "succeeded"),
        ("Gift", "none"),
        ("Fan", "succeeded"),
        ("Left", "succeeded"),
        ("Right", "succeeded"),
        ("Each", "succeeded"),
        ("Item", "succeeded"),
        ("Done", "succeeded"),
    ] {
        assert_eq!(
            o.get(state).and_then(Value::as_str),
            Some(want),
            "{state}: {o:?}"
        );
    }
    // Parallel branches and the Map's iteration are boxes inside their state's box.
    let nested = script(
        &browser,
        "const inside = (inner, outer) => { \
           const a = document.querySelector(`#graph g[data-state='${inner}'] rect`).getBBox(); \
           const b = document.querySelector(`#graph g[data-state='${outer}'] rect`).getBBox(); \
           return a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width \
             && a.y + a.height <= b.y + b.height; }; \
         return [inside('Left', 'Fan'), inside('Right', 'Fan'), inside('Item', 'Each'), \
                 inside('Charge', 'Fan')];",
    )
    .await;
    assert_eq!(nested, serde_json::json!([true, true, true, false]));
    let labels = browser.text("#graph svg").await;
    for label in [
        "Catch CustomError",
        "$.vip == true",
        "Default",
        "Branch 1",
        "Each item",
    ] {
        assert!(labels.contains(label), "{label} in {labels}");
    }
    assert!(browser.text(".headline .badge").await.contains("Succeeded"));

    // The history: one row per event, in order, failures marked, details expandable.
    let history = sfn
        .get_execution_history()
        .execution_arn(&arn)
        .max_results(1000)
        .send()
        .await
        .expect("history");
    let rows = browser.find_all("table.history tbody tr").await;
    assert_eq!(rows.len(), history.events().len());
    let first = rows[0].text().await.expect("row text");
    assert!(first.starts_with("1 ExecutionStarted"), "{first}");
    let failed = browser.find("tr[data-type='TaskFailed']").await;
    assert_eq!(
        failed.attr("class").await.expect("class").as_deref(),
        Some("ev-failed")
    );
    assert!(failed.text().await.expect("text").contains("Charge"));
    browser.click("tr[data-type='TaskFailed'] summary").await;
    let cause = browser.text("tr[data-type='TaskFailed'] details").await;
    assert!(cause.contains("CustomError"), "{cause}");
    assert!(
        browser.text("main").await.contains("+0."),
        "time since start"
    );
    browser
        .client()
        .set_window_size(1280, 1500)
        .await
        .expect("resize");
    script(&browser, "window.scrollTo(0, 0); return 0;").await;
    browser.screenshot("console-execution").await;

    // The machine's page: its graph uncoloured, definition, and executions.
    browser.open(&page(&daemon, "machine", &sm)).await;
    let o = outcomes(&browser).await;
    assert_eq!(o.get("Charge").and_then(Value::as_str), Some("none"));
    assert!(browser.text("pre.json").await.contains("\"Charge\": {"));
    let listed = browser.text("table.executions").await;
    assert!(
        listed.contains("order-1") && listed.contains("Succeeded"),
        "{listed}"
    );
    browser.screenshot("console-machine").await;

    // The keyboard: the first Tab reaches the skip link, and every control is a native one.
    script(&browser, "document.activeElement.blur(); return 0;").await;
    browser
        .client()
        .active_element()
        .await
        .expect("active element")
        .send_keys("\u{E004}")
        .await
        .expect("tab");
    let focused = script(&browser, "return document.activeElement.className;").await;
    assert_eq!(focused, "skip");

    // A phone's width: nothing wider than the screen but the graph and tables, which scroll.
    browser
        .client()
        .set_window_size(390, 844)
        .await
        .expect("resize");
    browser.open(&page(&daemon, "execution", &arn)).await;
    outcomes(&browser).await;
    let fits = script(
        &browser,
        "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
    )
    .await;
    assert_eq!(
        fits,
        Value::Bool(true),
        "the page scrolls sideways on a phone"
    );
    browser.screenshot("console-execution-phone").await;
    browser.close().await;
}

#[tokio::test]
async fn a_waiting_execution_counts_down_updates_itself_and_stops_through_its_button() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let browser = TestBrowser::start().await;
    let sm = create(
        &sfn,
        "reminder",
        r#"{"StartAt": "Delay", "States": {
              "Delay": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Send"},
              "Send": {"Type": "Pass", "End": true}}}"#,
    )
    .await;

    // A Wait of 10 s: its wake-up and countdown, then the page follows it to the end. (The
    // page must open and be read before the Wait ends: under a loaded run of the whole suite
    // that once took more than 4 s.)
    let short = start(&sfn, &sm, "soon", r#"{"wait": 10}"#).await;
    browser.open(&page(&daemon, "execution", &short)).await;
    let o = outcomes(&browser).await;
    assert_eq!(o.get("Delay").and_then(Value::as_str), Some("waiting"));
    assert_eq!(o.get("Send").and_then(Value::as_str), Some("none"));
    let now = browser.text("#now").await;
    assert!(
        now.contains("Delay wakes") && now.contains("UTC, in "),
        "{now}"
    );
    script(&browser, "window.notReloaded = true; return 0;").await;
    browser.screenshot("console-waiting").await;
    let done = eventually(
        "the page to show the end",
        Duration::from_secs(20),
        || async {
            let badge = script(
            &browser,
            "const b = document.querySelector('.headline .badge'); return b ? b.textContent : '';",
        )
        .await;
            (badge == "Succeeded").then_some(badge)
        },
    )
    .await;
    assert_eq!(done, "Succeeded");
    assert_eq!(
        script(&browser, "return window.notReloaded === true;").await,
        Value::Bool(true),
        "the page updated itself without a reload"
    );
    let o = outcomes(&browser).await;
    assert_eq!(o.get("Delay").and_then(Value::as_str), Some("succeeded"));
    assert_eq!(o.get("Send").and_then(Value::as_str), Some("succeeded"));

    // A Wait of a day, stopped through the button and its confirmation.
    let long = start(&sfn, &sm, "tomorrow", r#"{"wait": 86400}"#).await;
    browser.open(&page(&daemon, "execution", &long)).await;
    assert!(browser.text("#now").await.contains("in 23 h 59 min"));
    browser.click(".actions a.danger").await;
    let confirm = browser.text("main").await;
    assert!(confirm.contains("Stop execution tomorrow?"), "{confirm}");
    browser
        .find("#cause")
        .await
        .send_keys("customer cancelled")
        .await
        .expect("type");
    browser.click("#confirm").await;
    browser.find(".headline .badge.st-aborted").await;
    let o = outcomes(&browser).await;
    assert_eq!(o.get("Delay").and_then(Value::as_str), Some("aborted"));
    let d = describe(&sfn, &long).await;
    assert_eq!(d.status(), &ExecutionStatus::Aborted);
    assert_eq!(d.cause(), Some("customer cancelled"));

    // Redriven through its button: the Wait waits again.
    browser.click(".actions a.button").await;
    assert!(browser
        .text("main")
        .await
        .contains("Redrive execution tomorrow?"));
    browser.click("#confirm").await;
    browser.find(".headline .badge.st-running").await;
    assert_eq!(
        describe(&sfn, &long).await.status(),
        &ExecutionStatus::Running
    );
    let o = outcomes(&browser).await;
    assert_eq!(o.get("Delay").and_then(Value::as_str), Some("waiting"));

    // A Task of an activity says what it waits for.
    let activity = sfn
        .create_activity()
        .name("packer")
        .send()
        .await
        .expect("activity")
        .activity_arn()
        .to_owned();
    let def = format!(
        r#"{{"StartAt": "Pack", "States": {{"Pack": {{"Type": "Task", "Resource": "{activity}", "End": true}}}}}}"#
    );
    let packing = create(&sfn, "packing", &def).await;
    let arn = start(&sfn, &packing, "box-1", "{}").await;
    browser.open(&page(&daemon, "execution", &arn)).await;
    let now = browser.text("#now").await;
    assert!(now.contains("Pack waits for a worker of activity"), "{now}");
    assert!(now.contains("packer"), "{now}");
    assert_eq!(
        outcomes(&browser).await.get("Pack").and_then(Value::as_str),
        Some("waiting")
    );
    browser.close().await;
}

#[tokio::test]
async fn a_stop_from_another_site_or_without_the_forms_token_is_refused() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "guarded",
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "e1", "{}").await;
    let http = reqwest::Client::new();
    let stop = format!("{}/console/execution/stop", daemon.url());
    // The page gives a token and its cookie.
    let confirm = http
        .get(page(&daemon, "execution/stop", &arn))
        .send()
        .await
        .expect("confirmation page");
    let cookie = confirm
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a cookie")
        .to_owned();
    assert!(confirm
        .headers()
        .get("content-security-policy")
        .is_some_and(|v| v.to_str().unwrap_or_default().contains("script-src 'self'")));
    let token = cookie
        .split_once('=')
        .map(|c| c.1.to_owned())
        .expect("token");
    let html = confirm.text().await.expect("page");
    assert!(html.contains(&token), "the form carries the token");

    let attempts = [
        ("no token", None, None),
        ("a token without its cookie", None, Some(token.as_str())),
        (
            "another site",
            Some("http://evil.example"),
            Some(token.as_str()),
        ),
    ];
    for (what, origin, form_token) in attempts {
        let mut req = http
            .post(&stop)
            .form(&[("arn", arn.as_str()), ("token", form_token.unwrap_or(""))]);
        if form_token.is_some() && what != "a token without its cookie" {
            req = req.header("cookie", &cookie);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.expect("post");
        assert_eq!(r.status(), 403, "{what}");
        assert_eq!(
            describe(&sfn, &arn).await.status(),
            &ExecutionStatus::Running,
            "{what}"
        );
    }
    // The console's own form, with its cookie: stopped.
    let r = http
        .post(&stop)
        .header("cookie", &cookie)
        .header("origin", daemon.url())
        .form(&[("arn", arn.as_str()), ("token", token.as_str())])
        .send()
        .await
        .expect("post");
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    assert_eq!(
        describe(&sfn, &arn).await.status(),
        &ExecutionStatus::Aborted
    );
    // A stop the API refuses is refused on a page, in the API's words.
    let missing = arn.replace(":e1", ":nope");
    let r = http
        .post(&stop)
        .header("cookie", &cookie)
        .form(&[("arn", missing.as_str()), ("token", token.as_str())])
        .send()
        .await
        .expect("post");
    let status = r.status();
    let body = r.text().await.expect("page");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("ExecutionDoesNotExist"), "{body}");
}

#[tokio::test]
async fn a_hostile_input_shows_as_text_and_runs_nothing() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let browser = TestBrowser::start().await;
    let sm = create(
        &sfn,
        "echo",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    )
    .await;
    let hostile =
        r#"{"note": "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>"}"#;
    let arn = start(&sfn, &sm, "hostile", hostile).await;
    finished(&sfn, &arn, Duration::from_secs(10)).await;
    browser.open(&page(&daemon, "execution", &arn)).await;
    outcomes(&browser).await;
    let text = browser.text("main").await;
    assert!(text.contains("<script>window.pwned=2</script>"), "{text}");
    assert!(text.contains("<img src=x onerror="), "{text}");
    assert_eq!(
        script(&browser, "return typeof window.pwned;").await,
        "undefined"
    );
    assert!(browser.find_all("main img").await.is_empty());
    browser.close().await;
}

#[tokio::test]
async fn executions_are_filtered_by_status_and_name_paged_and_big_histories_paged() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let browser = TestBrowser::start().await;
    let sm = create(
        &sfn,
        "batch",
        r#"{"StartAt": "Check", "States": {
              "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.fail", "BooleanEquals": true, "Next": "No"}], "Default": "Yes"},
              "No": {"Type": "Fail", "Error": "Nope"},
              "Yes": {"Type": "Pass", "End": true}}}"#,
    )
    .await;
    let mut arns = Vec::new();
    for i in 0..60 {
        let input = format!(r#"{{"fail": {}}}"#, i % 10 == 0);
        arns.push(start(&sfn, &sm, &format!("job-{i}"), &input).await);
    }
    for a in &arns {
        finished(&sfn, a, Duration::from_secs(30)).await;
    }
    let version = sfn
        .publish_state_machine_version()
        .state_machine_arn(&sm)
        .description("first cut")
        .send()
        .await
        .expect("publish")
        .state_machine_version_arn()
        .to_owned();
    sfn.create_state_machine_alias()
        .name("live")
        .routing_configuration(
            aws_sdk_sfn::types::RoutingConfigurationListItem::builder()
                .state_machine_version_arn(&version)
                .weight(100)
                .build()
                .expect("routing"),
        )
        .send()
        .await
        .expect("alias");
    browser.open(&page(&daemon, "machine", &sm)).await;
    let versions = browser.text("main").await;
    assert!(
        versions.contains("first cut") && versions.contains("version 1: 100%"),
        "{versions}"
    );
    let counts = browser.text("nav.counts").await;
    assert!(
        counts.contains("All 60") && counts.contains("Succeeded 54") && counts.contains("Failed 6"),
        "{counts}"
    );
    assert_eq!(
        browser.find_all("table.executions tbody tr").await.len(),
        50
    );
    browser.click("#executions nav.pager a").await;
    browser.find("#executions nav.pager").await;
    assert_eq!(
        browser.find_all("table.executions tbody tr").await.len(),
        10
    );

    browser.open(&page(&daemon, "machine", &sm)).await;
    browser
        .find("#status")
        .await
        .select_by_value("FAILED")
        .await
        .expect("select");
    browser.click("form.filters button").await;
    browser.find("nav.counts a.current.st-failed").await;
    let failed = browser
        .find_all("table.executions tbody tr[data-status='FAILED']")
        .await;
    assert_eq!(failed.len(), 6);
    assert_eq!(browser.find_all("table.executions tbody tr").await.len(), 6);

    browser
        .open(&format!("{}&q=job-1", page(&daemon, "machine", &sm)))
        .await;
    let mut names = Vec::new();
    for row in browser
        .find_all("table.executions tbody tr td:first-child")
        .await
    {
        names.push(row.text().await.expect("name"));
    }
    let mut want: Vec<String> = std::iter::once("job-1".to_owned())
        .chain((10..20).map(|i| format!("job-{i}")))
        .collect();
    want.sort();
    assert_eq!(names, want);
    browser
        .open(&format!("{}&q=zzz", page(&daemon, "machine", &sm)))
        .await;
    assert!(browser
        .text("#executions")
        .await
        .contains("No execution matches"));

    // A history of more than a page: the newest page first, the first a click away.
    let looping = create(
        &sfn,
        "looping",
        r#"{"StartAt": "Count", "QueryLanguage": "JSONata", "States": {
              "Count": {"Type": "Pass", "Output": {"i": "{% $states.input.i + 1 %}"}, "Next": "More"},
              "More": {"Type": "Choice", "Choices": [
                {"Condition": "{% $states.input.i < 150 %}", "Next": "Count"}], "Default": "End"},
              "End": {"Type": "Succeed"}}}"#,
    )
    .await;
    let arn = start(&sfn, &looping, "loop", r#"{"i": 0}"#).await;
    finished(&sfn, &arn, Duration::from_secs(30)).await;
    let d = describe(&sfn, &arn).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    browser.open(&page(&daemon, "execution", &arn)).await;
    let pager = browser.text("#history nav.pager").await;
    assert!(
        pager.contains("Events 501–") && pager.contains(" of 604"),
        "{pager}"
    );
    browser.click("#history nav.pager a").await;
    let first = browser.text("table.history tbody tr").await;
    assert!(first.starts_with("1 ExecutionStarted"), "{first}");
    assert!(browser
        .text("#history nav.pager")
        .await
        .contains("Events 1–250 of 604"));
    browser.close().await;
}

#[tokio::test]
async fn the_console_is_off_under_auth_until_it_has_credentials_and_then_asks_for_them() {
    let keys = [
        ("HOURGLASS_AUTH__ENABLED", "true"),
        ("HOURGLASS_AUTH__KEYS__AKIDTEST", "secret"),
    ];
    let daemon = TestDaemon::start_with_env(&keys).await;
    let r = reqwest::get(format!("{}/console/", daemon.url()))
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
    assert!(r.text().await.expect("body").contains("console.username"));
    drop(daemon);

    let mut env = keys.to_vec();
    env.push(("HOURGLASS_CONSOLE__USERNAME", "admin"));
    env.push(("HOURGLASS_CONSOLE__PASSWORD", "s3cret"));
    let daemon = TestDaemon::start_with_env(&env).await;
    let http = reqwest::Client::new();
    let url = format!("{}/console/", daemon.url());
    let r = http.get(&url).send().await.expect("get");
    assert_eq!(r.status(), 401);
    assert!(r
        .headers()
        .get("www-authenticate")
        .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("Basic")));
    let r = http
        .get(&url)
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
    let r = http
        .get(&url)
        .basic_auth("admin", Some("s3cret"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .expect("body")
        .contains("No state machines yet"));
    // The API itself still wants its signature.
    let r = http
        .post(daemon.url())
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .header("content-type", "application/x-amz-json-1.0")
        .basic_auth("admin", Some("s3cret"))
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_distributed_maps_run_and_children_link_to_each_other() {
    let daemon = TestDaemon::start().await;
    let sfn = daemon.sfn();
    let browser = TestBrowser::start().await;
    let sm = create(
        &sfn,
        "fanout",
        r#"{"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true,
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}}}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "parent", "[1, 2]").await;
    assert_eq!(
        finished(&sfn, &arn, Duration::from_secs(30)).await,
        ExecutionStatus::Succeeded
    );
    browser.open(&page(&daemon, "execution", &arn)).await;
    let o = outcomes(&browser).await;
    assert_eq!(o.get("Each").and_then(Value::as_str), Some("succeeded"));
    assert!(browser
        .text("#graph svg")
        .await
        .contains("Map (distributed)"));
    browser.click("table.list a[href*='map-run']").await;
    let run = browser.text("main").await;
    assert!(run.contains("succeeded 2"), "{run}");
    let children = browser.find_all("table.executions tbody tr").await;
    assert_eq!(children.len(), 2);
    browser.click("table.executions tbody tr a").await;
    browser.find("dl.facts").await;
    let facts = browser.text("dl.facts").await;
    assert!(
        facts.contains("Parent execution") && facts.contains("Map run"),
        "{facts}"
    );
    browser.click("dl.facts a[href*='execution?']").await;
    assert_eq!(browser.text("h1").await, "parent");
    browser.close().await;
}
