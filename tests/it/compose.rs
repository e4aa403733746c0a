//! The deployment files: docker-compose.yml, the Dockerfiles, Prometheus and Grafana
//! provisioning, and the dashboard, checked for structure (no Docker engine is needed), and
//! the dashboard's queries checked against what a running daemon exports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::support::sfn::{create, finished, start};
use crate::support::{prom, FakeLambda, TestDaemon};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Yaml {
    let text = std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn dashboard() -> Json {
    let path = repo().join("deploy/grafana/dashboards/hourglass.json");
    let text = std::fs::read_to_string(&path).expect("dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// Images a user can pull from public registries.
const PUBLIC_IMAGES: &[&str] = &["prom/prometheus:", "grafana/grafana:", "postgres:"];

#[test]
fn the_compose_file_names_only_files_ports_and_images_that_exist() {
    let compose = yaml("docker-compose.yml");
    let services = compose["services"].as_mapping().expect("services");
    let names: BTreeSet<String> = services
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    for want in ["hourglass", "hello", "prometheus", "grafana"] {
        assert!(names.contains(want), "service {want} is missing");
    }
    for (name, svc) in services {
        let name = name.as_str().unwrap_or_default();
        if let Some(build) = svc.get("build") {
            let context = build
                .as_str()
                .or_else(|| build["context"].as_str())
                .expect("build context");
            let dir = repo().join(context);
            assert!(
                dir.join("Dockerfile").is_file(),
                "{name}: no Dockerfile in {}",
                dir.display()
            );
        } else {
            let image = svc["image"].as_str().expect("image or build");
            assert!(
                PUBLIC_IMAGES.iter().any(|p| image.starts_with(p)),
                "{name}: {image} is not a public image"
            );
        }
        for volume in svc["volumes"].as_sequence().into_iter().flatten() {
            let spec = volume.as_str().expect("short volume syntax");
            let host = spec.split(':').next().unwrap_or_default();
            if host.starts_with('.') {
                assert!(repo().join(host).exists(), "{name}: {host} does not exist");
            } else {
                assert!(
                    compose["volumes"].get(host).is_some(),
                    "{name}: volume {host} is not declared"
                );
            }
        }
        for port in svc["ports"].as_sequence().into_iter().flatten() {
            let port = port.as_str().expect("port string");
            assert!(
                port.starts_with("127.0.0.1:"),
                "{name}: {port} is published beyond loopback"
            );
        }
        for dep in svc["depends_on"].as_sequence().into_iter().flatten() {
            let dep = dep.as_str().expect("dependency name");
            assert!(names.contains(dep), "{name} depends on unknown {dep}");
        }
    }
    let ports: Vec<&str> = ["hourglass", "prometheus", "grafana"]
        .iter()
        .map(|s| {
            compose["services"][*s]["ports"][0]
                .as_str()
                .expect("a published port")
        })
        .collect();
    assert_eq!(
        ports,
        [
            "127.0.0.1:8083:8083",
            "127.0.0.1:9090:9090",
            "127.0.0.1:3000:3000"
        ]
    );
    assert_eq!(
        compose["services"]["hourglass"]["environment"]["LAMBDA_ENDPOINT"].as_str(),
        Some("http://hello:8080"),
        "the daemon calls the example function"
    );
}

#[test]
fn the_cluster_profile_runs_three_nodes_on_the_official_postgres_image() {
    let compose = yaml("docker-compose.yml");
    let services = &compose["services"];
    let in_profile = |name: &str| {
        services[name]["profiles"]
            .as_sequence()
            .is_some_and(|p| p.iter().any(|v| v.as_str() == Some("cluster")))
    };
    let pg = &services["postgres"];
    assert!(in_profile("postgres"));
    let image = pg["image"].as_str().expect("postgres image");
    assert!(
        image.starts_with("postgres:") && !image.contains('/'),
        "{image}: the official image"
    );
    let env = &pg["environment"];
    let (user, password, db) = (
        env["POSTGRES_USER"].as_str().expect("user"),
        env["POSTGRES_PASSWORD"].as_str().expect("password"),
        env["POSTGRES_DB"].as_str().expect("database"),
    );
    let want_url = format!("postgres://{user}:{password}@postgres:5432/{db}");
    for (i, port) in [8083, 8084, 8085].into_iter().enumerate() {
        let name = format!("hourglass-{}", i + 1);
        let node = &services[name.as_str()];
        assert!(in_profile(&name), "{name} is in the cluster profile");
        assert_eq!(
            node["ports"][0].as_str(),
            Some(format!("127.0.0.1:{port}:8083").as_str()),
            "{name}"
        );
        let env = node["environment"].as_mapping().expect("environment");
        let get = |k: &str| {
            env.get(k)
                .and_then(Yaml::as_str)
                .unwrap_or_else(|| panic!("{name}: {k}"))
                .to_owned()
        };
        assert_eq!(get("HOURGLASS_DATABASE_URL"), want_url, "{name}");
        assert_eq!(get("HOURGLASS_NODE_ID"), name);
        assert_eq!(
            get("HOURGLASS_CLUSTER__ADVERTISE_URL"),
            format!("http://{name}:8083"),
            "the others reach {name} by its service name"
        );
        // The daemon takes the node's settings as they are written.
        let mut cmd = crate::support::daemon::command();
        cmd.arg("config").current_dir(std::env::temp_dir());
        for (k, v) in env {
            cmd.env(
                k.as_str().expect("a variable name"),
                v.as_str().expect("a string value"),
            );
        }
        let out = cmd.output().expect("run hourglass config");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config: Json = serde_json::from_slice(&out.stdout).expect("config as JSON");
        assert_eq!(config["node_id"], Json::from(name.as_str()));
        assert_eq!(
            config["cluster"]["advertise_url"],
            Json::from(format!("http://{name}:8083"))
        );
    }
    // The single node of the default services also publishes 8083: it has no profile, so the
    // cluster is started by naming its services (as the file's header says).
    assert!(services["hourglass"].get("profiles").is_none());
    let header: String = std::fs::read_to_string(repo().join("docker-compose.yml"))
        .expect("compose file")
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        header.contains(
            "docker compose --profile cluster up --build postgres hourglass-1 hourglass-2 hourglass-3"
        ),
        "the header says how to start the cluster"
    );
}

#[test]
fn the_dockerfiles_build_from_what_the_repo_holds() {
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    // Cargo needs every member of the workspace to read its manifest.
    let members: Vec<String> = figment::Figment::from(
        <figment::providers::Toml as figment::providers::Format>::file(repo().join("Cargo.toml")),
    )
    .extract_inner("workspace.members")
    .expect("workspace members in Cargo.toml");
    assert!(members.contains(&"bench".to_owned()), "{members:?}");
    let mut copies = vec!["Cargo.toml", "Cargo.lock", "src", "migrations"];
    copies.extend(members.iter().map(String::as_str).filter(|m| *m != "."));
    for copied in copies {
        assert!(
            dockerfile
                .lines()
                .any(|l| l.starts_with("COPY") && l.contains(copied)),
            "the Dockerfile does not copy {copied}"
        );
        assert!(repo().join(copied).exists(), "{copied} is not in the repo");
    }
    assert!(
        dockerfile.contains("USER hourglass"),
        "runs as a non-root user"
    );
    assert!(dockerfile.contains("HEALTHCHECK"), "has a health check");
    let hello = std::fs::read_to_string(repo().join("examples/hello/Dockerfile"))
        .expect("hello Dockerfile");
    assert!(
        hello.contains("public.ecr.aws/lambda/python"),
        "built on the Lambda base image"
    );
    assert!(repo().join("examples/hello/app.py").is_file());
}

#[test]
fn prometheus_scrapes_hourglass_and_grafana_provisions_the_dashboard() {
    let prometheus = yaml("deploy/prometheus/prometheus.yml");
    let target = prometheus["scrape_configs"][0]["static_configs"][0]["targets"][0].as_str();
    assert_eq!(target, Some("hourglass:8083"));
    assert_eq!(
        prometheus["scrape_configs"][0]["metrics_path"].as_str(),
        Some("/metrics")
    );
    let datasources = yaml("deploy/grafana/provisioning/datasources/prometheus.yml");
    let uid = datasources["datasources"][0]["uid"]
        .as_str()
        .expect("datasource uid");
    assert_eq!(
        datasources["datasources"][0]["url"].as_str(),
        Some("http://prometheus:9090")
    );
    let providers = yaml("deploy/grafana/provisioning/dashboards/hourglass.yml");
    assert_eq!(
        providers["providers"][0]["options"]["path"].as_str(),
        Some("/var/lib/grafana/dashboards"),
        "where compose mounts deploy/grafana/dashboards"
    );
    let dash = dashboard();
    let panels = dash["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8, "only {} panels", panels.len());
    for p in panels {
        assert_eq!(
            p["datasource"]["uid"].as_str(),
            Some(uid),
            "panel {} datasource",
            p["title"]
        );
    }
}

/// Metric names a PromQL expression reads (`hourglass_...` identifiers).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(i) = rest.find("hourglass_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_cover_every_dashboard_query() {
    // One execution that calls a function, so every labelled family has a sample.
    let lambda = FakeLambda::start().await;
    let daemon = TestDaemon::start_with_env(&[("LAMBDA_ENDPOINT", &lambda.endpoint())]).await;
    let sfn = daemon.sfn();
    let sm = create(
        &sfn,
        "m",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:echo","End":true}}}"#,
    )
    .await;
    let arn = start(&sfn, &sm, "one", "{}").await;
    finished(&sfn, &arn, std::time::Duration::from_secs(10)).await;
    let text = reqwest::get(format!("{}/metrics", daemon.url()))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    let samples = prom::parse(&text).expect("valid exposition format");
    let exported: BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    let started = samples
        .iter()
        .find(|s| s.name == "hourglass_executions_started_total")
        .expect("executions started");
    assert_eq!(started.value, 1.0);
    let mut queried = BTreeSet::new();
    for panel in dashboard()["panels"].as_array().expect("panels") {
        for t in panel["targets"].as_array().expect("targets") {
            queried.extend(metric_names(t["expr"].as_str().expect("expr")));
        }
    }
    let missing: Vec<&String> = queried
        .iter()
        .filter(|m| !exported.contains(m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics nobody exports: {missing:?}"
    );
    let path = Path::new("deploy/grafana/dashboards/hourglass.json");
    assert!(repo().join(path).is_file());
}
