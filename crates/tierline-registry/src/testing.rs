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

    /// Freezes the process (SIGSTOP): requests hang until [`Apicurio::thaw`].
    pub fn freeze(&self) {
        self.signal("-STOP");
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

impl Drop for Apicurio {
    fn drop(&mut self) {
        self.thaw();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
