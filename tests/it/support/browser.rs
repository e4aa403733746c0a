//! [`TestBrowser`]: headless Chromium driven over WebDriver, for the web console's tests.
//!
//! `chromedriver` runs on a free loopback port in a process group of its own, with one session
//! open through `fantoccini`; Chromium gets a new empty profile and the flags this machine
//! needs (no sandbox as root, no GPU, no background connections: the network reaches nothing
//! but loopback). On drop the whole process group is killed, Chromium with it. The binaries
//! are `HOURGLASS_TEST_CHROMEDRIVER` and `HOURGLASS_TEST_CHROMIUM` (set by `scripts/test`),
//! by default Debian's `/usr/bin/chromedriver` and `/usr/bin/chromium`.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{ClientBuilder, Locator};

/// How long chromedriver may take to answer, and a session to open.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Chromium's flags: headless, and nothing that reaches for the network on its own.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,800",
];

pub struct TestBrowser {
    client: fantoccini::Client,
    driver: Driver,
}

/// chromedriver, killed with Chromium on drop.
struct Driver {
    /// Leader of the process group Chromium runs in.
    child: Child,
    /// Holds Chromium's profile and chromedriver's log.
    dir: tempfile::TempDir,
}

impl TestBrowser {
    /// Start chromedriver and open a session in a new headless Chromium.
    pub async fn start() -> Self {
        let chromium = binary("HOURGLASS_TEST_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("HOURGLASS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let dir = tempfile::Builder::new()
            .prefix("hourglass-browser-")
            .tempdir()
            .expect("temp dir for the browser");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.path().join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        let mut driver = Driver { child: driver, dir };
        let webdriver = format!("http://127.0.0.1:{port}");
        driver.wait_until_it_answers(&webdriver).await;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            driver.dir.path().join("profile").display()
        ));
        let mut capabilities = fantoccini::wd::Capabilities::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": chromium, "args": args }),
        );
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities);
        let client = match tokio::time::timeout(START_TIMEOUT, builder.connect(&webdriver)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("open a Chromium session: {e}\n{}", driver.log()),
            Err(_) => panic!(
                "no Chromium session within {START_TIMEOUT:?}\n{}",
                driver.log()
            ),
        };
        Self { client, driver }
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub fn client(&self) -> &fantoccini::Client {
        &self.client
    }

    /// Load `url` and wait for the page to load.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The first element matching the CSS selector, waiting up to 10 s for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// Every element matching the CSS selector now (perhaps none).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find all {css}: {e}"))
    }

    /// The rendered text of the first element matching the CSS selector (`body`: the page).
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Click the first element matching the CSS selector.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Save a PNG of the window to `target/tmp/screenshots/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// End the session (Chromium exits), then chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop kills chromedriver's process group.
    }
}

impl Driver {
    async fn wait_until_it_answers(&mut self, webdriver: &str) {
        let deadline = Instant::now() + START_TIMEOUT;
        let status = format!("{webdriver}/status");
        loop {
            if let Ok(r) = reqwest::get(&status).await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited with {exit}\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer within {START_TIMEOUT:?}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines of chromedriver's log, for failure messages.
    fn log(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "chromedriver's log (last lines):\n{}",
            lines[lines.len().saturating_sub(40)..].join("\n")
        )
    }
}

impl Drop for Driver {
    /// SIGKILL the process group chromedriver leads (so the Chromium it started too), reap.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

fn binary(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.exists(),
        "{} not found: run the tests with scripts/test, which installs Debian's chromium and \
         chromium-driver when run as root; or install them (apt-get install chromium \
         chromium-driver), or set {var}",
        path.display()
    );
    path
}
