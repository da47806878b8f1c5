//! A real Apicurio Registry process for tests and benchmarks (`scripts/registry`
//! provides it from Maven Central): started on a free port, killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry.
pub struct Apicurio {
    child: Child,
    port: u16,
}

impl Apicurio {
    /// Starts one (installing it first if needed) and waits until it answers.
    /// Panics when it cannot: tests need it.
    #[allow(clippy::expect_used, clippy::unwrap_used)]
    pub async fn start() -> Apicurio {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/registry");
        let log = std::env::var_os("TIERLINE_REGISTRY_LOG")
            .map(|p| std::fs::File::create(p).expect("registry log file"));
        let mut cmd = Command::new(&script);
        cmd.args(["start", &port.to_string()]).stdout(Stdio::null());
        match log {
            Some(f) => cmd.stderr(f),
            None => cmd.stderr(Stdio::null()),
        };
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", script.display()));
        let registry = Apicurio { child, port };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(180);
        let probe = format!("{}/schemas/types", registry.url());
        loop {
            if let Ok(r) = http.get(&probe).send().await
                && r.status().is_success()
            {
                return registry;
            }
            assert!(
                Instant::now() < deadline,
                "Apicurio Registry did not answer on {probe} within 180 s (scripts/registry install; set TIERLINE_REGISTRY_LOG to see its log)"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Its Confluent-compatible API root.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/apis/ccompat/v7", self.port)
    }

    /// Freezes the process (SIGSTOP): requests hang until [`Apicurio::thaw`]. Returns
    /// once every thread is stopped (a thread running on another core stops a moment
    /// after the signal, and could answer one more request).
    pub fn freeze(&self) {
        self.signal("-STOP");
        let tasks = format!("/proc/{}/task", self.child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline && !all_stopped(&tasks) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Lets a frozen process go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
    }
}

/// Whether every thread under `/proc/PID/task` is stopped (state `T`).
fn all_stopped(tasks: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(tasks) else {
        return true;
    };
    entries.filter_map(Result::ok).all(|t| {
        std::fs::read_to_string(t.path().join("stat")).is_ok_and(|stat| {
            // The state follows the parenthesised command name.
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('T') || rest.starts_with('t'))
        })
    })
}

impl Drop for Apicurio {
    fn drop(&mut self) {
        self.thaw();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
