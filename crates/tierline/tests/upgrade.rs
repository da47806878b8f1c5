//! An upgrade on PostgreSQL as the Helm chart runs it: the previous release's services
//! keep serving and projecting while this release's migration runs against the same
//! database; the previous release also starts against the migrated schema (a pod
//! restarted mid-upgrade); then this release takes over. Nothing written is lost or
//! doubled, and what the previous release projected stays projected.
//!
//! The previous release is the commit in `.ci/previous-release`, built by
//! `scripts/previous-release` (which `scripts/test` runs first).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{free_port, http_call, wait_get};
use serde_json::Value;
use sqlx::Connection;
use sqlx::Executor;

const KEY: &str = "upgrade-editor-key";

fn previous_release() -> PathBuf {
    let commit = include_str!("../../../.ci/previous-release").trim();
    let path = std::env::var_os("TIERLINE_PREVIOUS_RELEASE").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../../target/previous-release/tierline-{commit}"))
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} missing: run scripts/previous-release (scripts/test does)",
        path.display()
    );
    path
}

/// Kills a service at the end of the test, whatever happens.
struct Service(Child);

impl Service {
    fn start(bin: &PathBuf, args: &[&str], keys: &PathBuf) -> Service {
        Service(
            Command::new(bin)
                .args(args)
                .args(["--log", "off"])
                .env("TIERLINE_API_KEYS_FILE", keys)
                .spawn()
                .unwrap(),
        )
    }

    /// SIGTERM, and waits for a clean exit.
    fn stop(mut self) {
        Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(self.0.wait().unwrap().success(), "did not stop cleanly");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An audit of `supplier` with a comment; `n` makes the ids.
fn write(port: u16, n: u32, supplier: &str) -> Value {
    let body = serde_json::json!({
        "assessment_id": format!("UPG-{n}"),
        "kind": "BUYER_REVIEW",
        "assessor": "P-1",
        "criteria": [{"criterion": "cooperation", "score": 4.0, "max_score": 5.0}],
        "comment": format!("review {n}"),
    })
    .to_string();
    let uri = format!("/v1/suppliers/{supplier}/assessments");
    let (status, body) = http_call(port, "POST", &uri, Some(KEY), Some(&body)).unwrap();
    assert_eq!(status, 201, "write {n}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn get(port: u16, path: &str) -> Value {
    let (status, body) = http_call(port, "GET", path, Some(KEY), None).unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits until `done` holds for `GET path`.
fn until(port: u16, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = get(port, path);
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{path} never got there: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `serve` and `project` of `bin` on `ports`, once both are ready.
fn start_both(bin: &PathBuf, url: &str, ports: (u16, u16), keys: &PathBuf) -> (Service, Service) {
    let api = format!("127.0.0.1:{}", ports.0);
    let proj = format!("127.0.0.1:{}", ports.1);
    let serve = Service::start(bin, &["serve", "--store", url, "--api-http", &api], keys);
    let project = Service::start(
        bin,
        &[
            "project",
            "--store",
            url,
            "--project-http",
            &proj,
            "--poll-ms",
            "50",
        ],
        keys,
    );
    assert_eq!(wait_get(ports.0, "/readyz").0, 200);
    assert_eq!(wait_get(ports.1, "/readyz").0, 200);
    (serve, project)
}

fn suppliers(v: &Value) -> usize {
    v["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_release_keeps_running_while_this_one_migrates_then_hands_over() {
    let old = previous_release();
    let new = PathBuf::from(env!("CARGO_BIN_EXE_tierline"));
    // An empty database: the previous release makes its schema.
    let name = tierline_store::testing::unique_name("tierline_upgrade");
    let admin = tierline_store::testing::admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("keys");
    std::fs::write(
        &keys,
        format!("alice editor {}\n", tierline_api::hash_key(KEY)),
    )
    .unwrap();
    let run = |bin: &PathBuf, args: &[&str]| {
        let out = Command::new(bin).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&old, &["migrate", "--store", &url, "--log", "off"]);

    // The previous release serves and projects.
    let (api, proj) = (free_port(), free_port());
    let (old_serve, old_project) = start_both(&old, &url, (api, proj), &keys);
    let supplier = |n: u32| format!("UPG-{}", n % 5);
    for n in 0..20 {
        write(api, n, &supplier(n));
    }

    // This release's migration, while the previous one runs.
    run(&new, &["migrate", "--store", &url, "--log", "off"]);
    // The previous release keeps writing and projecting on the new schema...
    for n in 20..40 {
        write(api, n, &supplier(n));
    }
    until(api, "/v1/suppliers?page_size=50", |v| suppliers(v) == 5);
    // ...and starts on it (a pod restarted during the upgrade).
    let api2 = free_port();
    let api2_arg = format!("127.0.0.1:{api2}");
    let old_again = Service::start(
        &old,
        &["serve", "--store", &url, "--api-http", &api2_arg],
        &keys,
    );
    assert_eq!(wait_get(api2, "/readyz").0, 200);
    assert_eq!(
        get(api2, "/v1/suppliers/UPG-1/assessments")["items"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    old_again.stop();

    // This release takes over (Recreate: the old projector stops first).
    old_project.stop();
    old_serve.stop();
    let (new_serve, new_project) = start_both(&new, &url, (api, proj), &keys);
    for n in 40..50 {
        write(api, n, &supplier(n));
    }

    // Every write stored once; every assessment readable, old comments and new.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut sqlx::PgConnection::connect(&url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(events, 50);
    for s in 0..5 {
        let list = get(api, &format!("/v1/suppliers/UPG-{s}/assessments"));
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 10, "{list}");
        for a in items {
            let n: u32 = a["assessment_id"].as_str().unwrap()[4..].parse().unwrap();
            assert_eq!(a["comment"], format!("review {n}"));
        }
    }
    // The new projector counted what the old one projected, once (people's acts are
    // counted, not judged: /v1/sources leaves them out).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    loop {
        let counted: Option<i64> = sqlx::query_scalar(
            "SELECT sum(events)::int8 FROM source_days WHERE source = 'api:alice'",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        if counted == Some(50) {
            break;
        }
        assert!(Instant::now() < deadline, "source counts: {counted:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get(api, "/v1/sources")["items"], serde_json::json!([]));
    // And it projects: the scorecards of all five suppliers are there.
    until(api, "/v1/suppliers?page_size=50", |v| suppliers(v) == 5);
    new_project.stop();
    new_serve.stop();
    drop(db);

    drop(conn);
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
