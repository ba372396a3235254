//! The release-shaped `mxshop` binary, started as an operator starts it and reached over real TCP:
//! whatever depends on how the server is started (peer addresses, timeouts, connection limits,
//! files on disk) is tested here, never in-process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::support::{TEST_SECRET, TestDatabase};

pub const BINARY: &str = env!("CARGO_BIN_EXE_mxshop");

/// How to start the binary.
pub struct Start {
    listen: String,
    env: Vec<(String, String)>,
    /// As out of the box: the SQLite file in the data directory (not the test database) and a
    /// generated secret key.
    out_of_the_box: bool,
    /// A database URL of the test's own instead of a fresh test database.
    database_url: Option<String>,
}

impl Start {
    pub fn new() -> Self {
        Self { listen: "127.0.0.1:0".into(), env: Vec::new(), out_of_the_box: false, database_url: None }
    }

    /// An `MXSHOP_*` (or other) variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.to_owned();
        self
    }

    /// Serve this database (the test made it) instead of a fresh test database.
    pub fn database_url(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self
    }

    pub fn out_of_the_box(mut self) -> Self {
        self.out_of_the_box = true;
        self
    }

    fn command(&self, database: &TestDatabase, data_dir: &Path) -> Command {
        let mut command = Command::new(BINARY);
        command.args(["serve", "--listen", &self.listen]).arg("--data-dir").arg(data_dir.join("data"));
        if !self.out_of_the_box {
            let url = self.database_url.as_deref().unwrap_or(&database.url);
            command.args(["--database-url", url]).env("MXSHOP_SECRET_KEY", TEST_SECRET);
        }
        command
            // JSON lines: the test reads SMS codes from the log.
            .env("MXSHOP_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn,shop::accounts::sms=info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }

    /// Starts the server and waits until it prints its address.
    pub async fn run(self) -> Shop {
        let database = TestDatabase::create().await;
        let data_dir = tempfile::tempdir().expect("temp dir");
        self.run_on(database, data_dir).await
    }

    /// Starts the server on a database and data directory (`<data_dir>/data`) prepared already.
    pub async fn run_on(self, database: TestDatabase, data_dir: tempfile::TempDir) -> Shop {
        let mut child = self
            .command(&database, data_dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mxshop");
        // Logs go to standard output with the URLs; errors may go to either.
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => match line.strip_prefix("mxshop is serving on ") {
                    Some(base) => break base.trim_end_matches('/').to_owned(),
                    None => log.lock().unwrap().push(line),
                },
                _ => {
                    let _ = child.wait();
                    panic!("mxshop did not start: {}", log.lock().unwrap().join("\n"));
                }
            }
        };
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let addr = base.strip_prefix("http://").unwrap().parse().expect("a socket address");
        Shop { child, base, addr, log, data_dir, database }
    }

    /// Starts the server expecting it to refuse; what it wrote to standard error.
    pub async fn refused(self) -> String {
        let database = TestDatabase::create().await;
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut child = self
            .command(&database, data_dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mxshop");
        // A server that starts anyway would never exit: bound the wait and fail clearly.
        for _ in 0..300 {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(!status.success(), "mxshop must refuse to start");
                let mut stderr = String::new();
                child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
                return stderr;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        panic!("mxshop started (or hung) instead of refusing");
    }
}

/// A running server; killed when the test ends, pass or fail.
pub struct Shop {
    child: Child,
    pub base: String,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    pub data_dir: tempfile::TempDir,
    pub database: TestDatabase,
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Shop {
    /// Stops the server (its database and data directory stay until the test ends), so that
    /// what runs next on its database does not race its background jobs.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An HTTP client whose connections leave from `local` (any 127.x.y.z is another client).
    pub fn client_from(&self, local: &str) -> reqwest::Client {
        let local: IpAddr = local.parse().expect("an address");
        shop::outbound::http_client_builder()
            .unwrap()
            .local_address(local)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Runs an `mxshop` subcommand against this server's database and data directory.
    pub fn cli(&self, args: &[&str], stdin: &str) -> String {
        let (ok, stdout, stderr) = run(args, &self.database.url, &self.data_path(""), stdin);
        assert!(ok, "mxshop {args:?}: {stderr}");
        stdout
    }

    /// A user made with `mxshop user create`, and a login token for them.
    pub async fn user(&self, username: &str, mobile: &str, password: &str) -> String {
        self.cli(&["user", "create", username, "--mobile", mobile], &format!("{password}\n"));
        let login = self
            .client_from("127.0.0.1")
            .post(self.url("/login/"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        login.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// `POST /messages/` from 127.0.0.1 with one file and text fields.
    pub fn upload(
        &self,
        token: &str,
        file_name: &str,
        content: &[u8],
        fields: &[(&str, &str)],
    ) -> impl Future<Output = reqwest::Response> + use<> {
        let (content_type, body) = multipart(file_name, content, fields);
        let request = self
            .client_from("127.0.0.1")
            .post(self.url("/messages/"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        async move { request.send().await.unwrap() }
    }

    /// The last SMS code the log provider wrote for `mobile` (waiting a moment for the log line
    /// to come through the pipe).
    pub fn sms_code(&self, mobile: &str) -> Option<String> {
        for _ in 0..20 {
            let log = self.log.lock().unwrap();
            let found = log.iter().rev().filter_map(|line| serde_json::from_str::<Value>(line).ok()).find_map(|line| {
                let fields = &line["fields"];
                (fields["mobile"] == mobile).then(|| fields["code"].as_str().map(str::to_owned)).flatten()
            });
            if found.is_some() {
                return found;
            }
            drop(log);
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// A `/proc/<pid>/status` figure in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("proc status");
        let line = status.lines().find(|line| line.starts_with(field)).expect(field);
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// A path in the data directory (which the server created: it did not exist before).
    pub fn data_path(&self, relative: &str) -> PathBuf {
        self.data_dir.path().join("data").join(relative)
    }

    /// Sends a signal (`TERM`, `INT`) to the server.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success(), "kill -s {name}");
    }

    /// Waits (at most `within`) for the server to exit; its exit status.
    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "mxshop did not exit within {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the server logged so far (JSON lines).
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The database, as the server sees it.
    pub async fn db(&self) -> sea_orm::DatabaseConnection {
        shop::db::connect(&self.database.url, 2).await.unwrap()
    }
}

/// Runs `mxshop ARGS --database-url URL --data-dir DIR` with `stdin`; (success, stdout, stderr).
pub fn run(args: &[&str], database_url: &str, data_dir: &Path, stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .args(["--database-url", database_url])
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mxshop");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// One HTTP/1.1 request written byte for byte (no client library normalises the path): the status
/// line and headers (lower-cased names), and the body.
pub fn raw_request(addr: SocketAddr, request: &str) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, response[split + 4..].to_vec())
}

/// `GET path` with `Connection: close`.
pub fn raw_get(addr: SocketAddr, path: &str) -> (String, Vec<(String, String)>, Vec<u8>) {
    raw_request(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"))
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// A `multipart/form-data` body with one file and text fields; (content type, body).
fn multipart(file_name: &str, content: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "mxshop-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
