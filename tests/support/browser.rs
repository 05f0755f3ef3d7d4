//! A real browser for the tests: Debian's headless `chromium` driven through `chromedriver`
//! (WebDriver) with fantoccini, talking plain HTTP to the driver on loopback.
//!
//! The browser reaches nothing but the test's own servers: every host name a test names is
//! mapped to a loopback port (`--host-resolver-rules`), every other name fails to resolve, and
//! Chromium's background traffic (updates, sync, metrics) is off. The simulator's TLS
//! certificate is accepted with `--ignore-certificate-errors`: the browser is the test's own
//! and only ever sees loopback servers.
//!
//! A browser is a desktop window, or a phone: Chromium's mobile emulation at [`PHONE`]'s size,
//! which lays pages out as a phone does (the page's viewport meta read, touch input).
//!
//! Without `chromedriver` the tests that need it print a SKIPPED line and pass, except under
//! `CI=true`, where they fail: CI installs `chromium` and `chromium-driver` (.ci/run).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::connect_page::connect_url;
use super::service::Instance;

/// Where Debian installs the browser and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A phone's screen in CSS pixels (an iPhone 12 to 15), and the pixel density screenshots are
/// taken at (1, which keeps the README's screenshot small).
pub const PHONE: (u32, u32, u32) = (390, 844, 1);

/// Longest a navigation through the provider and back may take.
const NAVIGATION: Duration = Duration::from_secs(30);

/// The window a browser has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// A desktop window, 1000 by 1200.
    Desktop,
    /// A phone ([`PHONE`]), emulated.
    Phone,
}

/// A headless Chromium session and the driver process behind it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver takes its browser down with it.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts a browser that sends each host of `hosts` to its loopback address; `None` after
    /// a loud SKIPPED line when chromedriver or chromium is missing outside CI.
    pub async fn start(
        test: &str,
        hosts: &[(String, SocketAddr)],
        screen: Screen,
    ) -> Option<Browser> {
        let missing: Vec<&str> = [CHROMEDRIVER, CHROMIUM]
            .into_iter()
            .filter(|path| !std::path::Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{test}: {} required under CI (apt-get install chromium chromium-driver)",
                    missing.join(" and ")
                );
            }
            eprintln!(
                "\n*** SKIPPED: {test}: no {} (apt-get install chromium chromium-driver) ***\n",
                missing.join(" and ")
            );
            return None;
        }
        let (driver, port) = start_driver(test);
        let profile = tempfile::tempdir().unwrap();
        let mut rules: Vec<String> = hosts
            .iter()
            .map(|(host, addr)| format!("MAP {host} {addr}"))
            .collect();
        rules.push("MAP * ~NOTFOUND".to_owned());
        rules.push("EXCLUDE 127.0.0.1".to_owned());
        let args = vec![
            "--headless=new".to_owned(),
            // The tests run as root in a container, where the sandbox cannot start.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1000,1200".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--host-resolver-rules={}", rules.join(", ")),
            "--ignore-certificate-errors".to_owned(),
            // Plain-http test hosts stay plain http.
            "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-default-apps".to_owned(),
            "--disable-extensions".to_owned(),
        ];
        let mut options = json!({ "binary": CHROMIUM, "args": args });
        if screen == Screen::Phone {
            let (width, height, density) = PHONE;
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": width, "height": height, "pixelRatio": density,
                    "mobile": true, "touch": true,
                },
            });
        }
        let capabilities = json!({ "browserName": "chrome", "goog:chromeOptions": options });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("{test}: no WebDriver session: {e}"));
        Some(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    /// The element a CSS selector finds, once the page shows it: a click that submits a form
    /// returns before the next page has loaded, so the element is waited for (by polling the
    /// page, not by a fixed sleep), for at most 30 seconds.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(std::time::Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}`: {e}"))
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Starts a session on `serve` and opens its connect page; returns the page's URL.
    pub async fn open(&self, serve: &Instance, session: Value) -> String {
        let url = connect_url(serve, session).await;
        self.goto(&url).await;
        url
    }

    /// Types `text` into the element a CSS selector finds.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    /// Turns the browser's own checks of the form off (its `pattern` and `required`), so a
    /// submission reaches the server as typed.
    pub async fn skip_form_checks(&self) {
        self.run("document.querySelector('form').noValidate = true; return null")
            .await;
    }

    /// Clicks the form's submit button.
    pub async fn submit(&self) {
        self.find("button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
    }

    /// Presses each key of `keys` in turn (text, or [`fantoccini::key::Key`] values as
    /// characters) on whatever has the focus, as a keyboard does: no element is targeted.
    pub async fn press(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".to_owned());
        for value in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    /// Waits until the browser is at `url` (a navigation through the provider and back);
    /// `serve`'s log is shown when it never gets there.
    pub async fn land_on(&self, url: &str, serve: &Instance) {
        let url = url::Url::parse(url).unwrap();
        self.client
            .wait()
            .at_most(NAVIGATION)
            .for_url(&url)
            .await
            .unwrap_or_else(|e| panic!("did not land on {url}: {e}\n{}", serve.log_text()));
    }

    /// What the window shows, as a PNG.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.unwrap()
    }

    /// Every element a CSS selector finds.
    pub async fn find_all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// Runs a script in the page (WebDriver's own channel, which the page's CSP does not
    /// govern) and returns its value.
    pub async fn run(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    /// The current URL.
    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.unwrap()
    }

    /// The page's HTML as the browser holds it.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Ends the WebDriver session.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// Starts chromedriver on a port of its choosing and returns it with that port. A
/// chromedriver that exits before it names its port (seen on a loaded machine, when several
/// start at once) is started again, at most three times; the last one's own words are in the
/// panic message.
fn start_driver(test: &str) -> (Child, u16) {
    let mut last = String::new();
    for _ in 0..3 {
        let mut driver = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromedriver starts");
        // Its stderr is read from the start, so a full pipe never stalls it; kept in case it
        // ends early.
        let err = driver.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut BufReader::new(err), &mut text);
            text
        });
        match driver_port(&mut driver) {
            Ok(port) => return (driver, port),
            Err(said) => {
                let _ = driver.wait();
                last = format!("{said}{}", stderr.join().unwrap_or_default());
            }
        }
    }
    panic!("{test}: chromedriver ended three times before it said its port: {last}")
}

/// The port chromedriver printed (its output is drained from then on), or what it printed
/// before it ended without naming one.
fn driver_port(driver: &mut Child) -> Result<u16, String> {
    let mut out = BufReader::new(driver.stdout.take().unwrap());
    let mut said = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            return Err(said);
        }
        said.push_str(&line);
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            let port = rest
                .trim()
                .trim_end_matches('.')
                .parse()
                .expect("a port number");
            // Whatever it prints later is read, so a full pipe never stalls it.
            std::thread::spawn(move || out.lines().for_each(drop));
            return Ok(port);
        }
    }
}

/// The platform's own page, where `return_to` points: answers every GET with a small HTML
/// page. Returns its address.
pub async fn platform_page() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|| async {
        axum::response::Html(
            "<!doctype html><html lang=\"en\"><title>Platform</title><h1>Back on the platform</h1></html>",
        )
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}
